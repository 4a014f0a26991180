# fish completion for ztui (commands, options, guests, device targets, bus-IDs; the values from the hosts
# the line names). Installed in vendor_completions.d; by hand: ztui completion fish > ~/.config/fish/completions/ztui.fish
function __ztui_complete
    set -l tokens (commandline -opc) (commandline -ct)
    set -l answer (command $tokens[1] __complete fish (math (count $tokens) - 1) $tokens 2>/dev/null </dev/null)
    or return
    set -l token (commandline -ct)
    set -l prefix (string match -r -- '^--[^=]*=' $token)
    switch "$answer[1]"
        case files
            __fish_complete_path (string replace -- "$prefix" '' $token) | string replace -r -- '^' "$prefix"
        case dirs
            __fish_complete_directories (string replace -- "$prefix" '' $token) | string replace -r -- '^' "$prefix"
        case words
            set -e answer[1]
            printf '%s\n' $answer
    end
end
complete -c ztui -f -a '(__ztui_complete)'
