"""The benchmark's guards: the README's Performance table is read figure by figure, and a figure fails only
when it is clearly worse than there (a quarter, beyond what noise moves)."""

from __future__ import annotations

import pytest

from tests.bench.test_bench import (
    GUARD_WORSE,
    SCALE,
    TARGETS,
    guard_holds,
    markdown,
    other_scale,
    readme_figures,
    regressions,
)

TABLE = """
# ztui

## Performance

| figure | value | target | |
|---|---|---|---|
| `first_tree_ratio` | 0.830 | <= 2.0 | met |
| `virsh_loop_speedup` | 21.0 | >= 30 | **missed** |
| `storm_final_correct` | true | == True | met |
| `idle_cpu_pct` | 0.010 | <= 1 | met |
| `fleet_tree_json_s` | 3.2 | | |
| first_tree_ratio in prose | 9 | | |

## Later

| `first_tree_ratio` | 99 | | |
"""


def test_the_readme_table_is_read_figure_by_figure() -> None:
    assert readme_figures(TABLE) == {"first_tree_ratio": 0.83, "virsh_loop_speedup": 21.0,
                                     "storm_final_correct": True, "idle_cpu_pct": 0.01, "fleet_tree_json_s": 3.2}


def test_the_readme_of_this_repository_has_its_figures() -> None:
    figures = readme_figures()
    assert {"first_tree_ratio", "tree_json_ratio_lab", "first_tree_s_rtt20", "fleet_first_tree_ratio",
            "fleet_tree_json_ratio", "fleet_hang_delay_s", "fleet_rss_mb", "fleet_idle_cpu_pct",
            "tree_json_cpu_per_device_ratio_lab"} <= set(figures)
    assert all(key in TARGETS or key in SCALE or key.startswith(("fleet_", "first_list", "tree_json_"))
               for key in figures)
    assert set(SCALE) <= set(figures)  # the size of the run the figures come from


def test_clearly_worse_fails_and_noise_does_not() -> None:
    assert guard_holds("first_tree_ratio", 0.83 * GUARD_WORSE, 0.83)
    assert not guard_holds("first_tree_ratio", 0.83 * GUARD_WORSE * 1.01, 0.83)
    assert guard_holds("virsh_loop_speedup", 21.0 / GUARD_WORSE, 21.0)  # higher is better
    assert not guard_holds("virsh_loop_speedup", 21.0 / GUARD_WORSE * 0.99, 21.0)
    assert guard_holds("idle_cpu_pct", 0.2, 0.010)  # a tenth of a percent of one CPU is noise
    assert not guard_holds("idle_cpu_pct", 0.4, 0.010)
    assert guard_holds("event_p50_ms", 30, 21)  # a few ms too
    assert not guard_holds("storm_final_correct", False, True)
    last = readme_figures(TABLE)
    assert regressions({"first_tree_ratio": 1.5, "virsh_loop_speedup": 25.0, "other": 1e9}, last) == [
        "first_tree_ratio"]


def test_the_table_printed_for_the_readme_reads_back() -> None:
    results = {"guests": 1000, "first_tree_ratio": 0.9, "fleet_tree_json_s": 3.0, "fleet_rss_mb": 120.5,
               "storm_final_correct": True, "fleet_hosts": 16, "fleet_guests": 1600}
    text = "## Performance\n\n" + markdown(results) + "\n"
    assert readme_figures(text) == {"guests": 1000, "fleet_hosts": 16, "fleet_guests": 1600, "first_tree_ratio": 0.9,
                                    "fleet_tree_json_s": 3.0, "fleet_rss_mb": 120.5, "storm_final_correct": True}


def test_the_unit_in_the_name_gives_the_slack_wherever_it_stands() -> None:
    assert guard_holds("event_p50_ms_rtt20", 49 * GUARD_WORSE + 4, 49)  # a few ms, also before a suffix
    assert not guard_holds("event_p50_ms_rtt20", 49 * GUARD_WORSE + 6, 49)
    assert guard_holds("fleet_hang_delay_s", 0.5, 0.17)  # 0.33 s of a difference of two shared wall clocks
    assert not guard_holds("fleet_hang_delay_s", 1.2, 0.17)  # a hung host holding the others up is not noise
    assert guard_holds("rss_mb", 83 * GUARD_WORSE + 4, 83)
    assert not guard_holds("tree_json_ratio", 1.82 * GUARD_WORSE + 0.01, 1.82)  # a ratio has none


def test_only_ratios_and_figures_with_a_target_are_guarded() -> None:
    last = {"fleet_tree_json_s": 3.89, "fleet_tree_json_hang_delay_s": 1.31, "fleet_tree_json_ratio": 4.85,
            "fleet_tree_json_cpu_bound_ratio": 3.71, "fleet_hang_delay_s": 0.17}
    # a slower machine, and a faster ztui (the hung host's answer time then stands out more): no regression
    assert regressions({"fleet_tree_json_s": 6.0, "fleet_tree_json_hang_delay_s": 3.0, "fleet_tree_json_ratio": 4.9,
                        "fleet_tree_json_cpu_bound_ratio": 3.7, "fleet_hang_delay_s": 0.2}, last) == []
    assert regressions({"fleet_tree_json_ratio": 6.5, "fleet_tree_json_cpu_bound_ratio": 4.8,
                        "fleet_hang_delay_s": 0.2}, last) == ["fleet_tree_json_ratio",
                                                               "fleet_tree_json_cpu_bound_ratio"]


def test_a_run_of_another_size_is_not_held_to_the_readme() -> None:
    last = {"fleet_hosts": 16.0, "fleet_guests": 1600.0, "fleet_tree_json_ratio": 4.85}
    smaller = {"fleet_hosts": 4, "fleet_guests": 200, "fleet_tree_json_ratio": 9.0}
    assert other_scale(smaller, last) == ["fleet_hosts 4 (README: 16)", "fleet_guests 200 (README: 1600)"]
    assert regressions(smaller, last) == []
    assert regressions({**smaller, "fleet_hosts": 16, "fleet_guests": 1600}, last) == ["fleet_tree_json_ratio"]


@pytest.mark.parametrize("row", ["| `first_tree_ratio` | 0,83 | <= 2.0 | met |", "| `first_tree_ratio` | n/a | | |",
                                 "| `first_tree_ratio` | 0.83 | | |\n| `first_tree_ratio` | 0.9 | | |"])
def test_a_row_that_cannot_be_read_is_an_error_not_a_guard_less(row: str) -> None:
    with pytest.raises(ValueError, match="first_tree_ratio"):
        readme_figures(f"## Performance\n\n| figure | value | target | |\n|---|---|---|---|\n{row}\n")
