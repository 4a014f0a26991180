"""The benchmark's guards: the README's Performance table is read figure by figure, and a figure fails only
when it is clearly worse than there (a quarter, beyond what noise moves)."""

from __future__ import annotations

from tests.bench.test_bench import GUARD_WORSE, TARGETS, guard_holds, markdown, readme_figures, regressions

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
    assert all(key in TARGETS or key.startswith(("fleet_", "first_list", "tree_json_")) for key in figures)


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
    results = {"first_tree_ratio": 0.9, "fleet_tree_json_s": 3.0, "fleet_rss_mb": 120.5, "guests": 1000,
               "storm_final_correct": True}
    text = "## Performance\n\n" + markdown(results) + "\n"
    assert readme_figures(text) == {"first_tree_ratio": 0.9, "fleet_tree_json_s": 3.0, "fleet_rss_mb": 120.5,
                                    "storm_final_correct": True}
