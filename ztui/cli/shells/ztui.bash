# bash completion for ztui (commands, options, guests, device targets, bus-IDs; the values from the hosts
# the line names). Installed as share/bash-completion/completions/ztui; by hand: eval "$(ztui completion bash)"
_ztui() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    read -r -a words <<<"$line"
    [[ -z $line || $line == *[[:space:]] ]] && words+=("")
    local index=$((${#words[@]} - 1))
    local current=${words[index]}
    local answer
    answer=$(command "${words[0]/#\~/$HOME}" __complete bash "$index" "${words[@]}" 2>/dev/null </dev/null) || return 0
    local kind=${answer%%$'\n'*} values=
    [[ $answer == *$'\n'* ]] && values=${answer#*$'\n'}
    # bash replaces only what follows the last ':' or '=' of the word (COMP_WORDBREAKS)
    local rest=$current
    [[ $COMP_WORDBREAKS == *:* ]] && rest=${rest##*:}
    [[ $COMP_WORDBREAKS == *=* ]] && rest=${rest##*=}
    local strip=$((${#current} - ${#rest})) value
    COMPREPLY=()
    case $kind in
        files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "${current#--*=}") ;;
        dirs) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "${current#--*=}") ;;
        words)
            while IFS= read -r value; do
                [[ -n $value ]] && COMPREPLY+=("${value:strip}")
            done <<<"$values"
            ;;
    esac
}
complete -F _ztui ztui
