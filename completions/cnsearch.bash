# cnsearch.bash -- bash completion for cnsearch.
#
# Installed as share/bash-completion/completions/cnsearch, where
# bash-completion loads it on first use; or source it from ~/.bashrc.
# Completes the command names (as the first word), options (with the
# values of --color and --sort, folders for -C and files for --index) and,
# in a query, the field names: "ti<TAB>" gives "title:".
#
# It needs nothing from bash-completion, so it also works when sourced
# alone.  Words are taken from COMP_LINE when bash provides it, so that
# "--color=al" and "title:mo" are seen whole even though bash splits
# COMP_WORDS at '=' and ':' (COMP_WORDBREAKS).
#
# Keep the lists in step with the option table in cnsearch.c:
# tests/cli/install.sh fails when an option that `cnsearch --help' prints
# is missing here.

_cnsearch_commands='index check fetch links init watch tags stats'
_cnsearch_fields='title: heading: link: body: tag: path: url: after: before: links-to: linked-from:'
# Options for every command, then those that belong to some.
_cnsearch_opts_global='-C --dir --index -q --quiet -h --help -V --version'
_cnsearch_opts_search='-n --limit -l --files-with-matches -c --count --vimgrep --json --color --sort --null --absolute --explain --no-update --no-linked'
_cnsearch_opts_index='--rebuild'
_cnsearch_opts_fetch='--jobs --refresh --max-age --failed'
_cnsearch_opts_watch='--idle'
_cnsearch_opts_links='--json --null --absolute --color --no-update'
_cnsearch_opts_list='--json --no-update'
# Options that take a value in the next word (or after '=').
_cnsearch_opts_valued='-C --dir --index -n --limit --color --sort --jobs --max-age --idle'

_cnsearch() {
  local cur prev frag i w cmd='' dashdash=0 nwords
  local -a words
  # What bash will replace: its current word, or nothing when that word
  # is a lone '=' or ':' (the cursor right after "--color=" or "tag:").
  frag=${COMP_WORDS[COMP_CWORD]}
  [[ $frag == [=:] ]] && frag=''

  # The words up to the cursor, split at blanks only.
  if [[ -n ${COMP_LINE-} && -n ${COMP_POINT-} ]]; then
    read -r -a words <<<"${COMP_LINE:0:COMP_POINT}"
    [[ ${COMP_LINE:COMP_POINT-1:1} == [[:blank:]] || COMP_POINT -eq 0 ]] && words+=('')
  else
    # No line (e.g. called by hand): rejoin the pieces of COMP_WORDS that
    # bash split at '=' or ':', assuming no blank around them.
    words=()
    for ((i = 0; i <= COMP_CWORD; i++)); do
      w=${COMP_WORDS[i]}
      if ((${#words[@]} > 1)) && [[ $w == [=:]* || ${words[${#words[@]}-1]} == *[=:] ]]; then
        words[${#words[@]}-1]+=$w
      else
        words+=("$w")
      fi
    done
  fi
  nwords=${#words[@]}
  ((nwords > 0)) || return 0
  cur=${words[nwords-1]}
  prev=''
  ((nwords > 1)) && prev=${words[nwords-2]}

  # The command is the first word that is neither an option nor an
  # option's value; after "--" every word is a query word.
  for ((i = 1; i < nwords - 1; i++)); do
    w=${words[i]}
    if [[ $w == -- ]]; then
      dashdash=1
      break
    elif [[ $w == -* ]]; then
      [[ $w != *=* && " $_cnsearch_opts_valued " == *" $w "* ]] && ((i++))
    else
      cmd=$w
      break
    fi
  done
  [[ -n $cmd && " $_cnsearch_commands " != *" $cmd "* ]] && cmd=search

  local -a reply=()
  local opt='' val=''
  if ((!dashdash)); then
    if [[ $cur == --*=* ]]; then
      opt=${cur%%=*}
      val=${cur#*=}
    elif [[ $cur != -* && " $_cnsearch_opts_valued " == *" $prev "* ]]; then
      opt=$prev
      val=$cur
    fi
  fi

  if [[ -n $opt ]]; then
    case $opt in
    --color) mapfile -t reply < <(compgen -W 'auto always never' -- "$val") ;;
    --sort) mapfile -t reply < <(compgen -W 'rank path date' -- "$val") ;;
    -C | --dir)
      compopt -o filenames 2>/dev/null
      mapfile -t reply < <(compgen -d -- "$val")
      ;;
    --index)
      compopt -o filenames 2>/dev/null
      mapfile -t reply < <(compgen -f -- "$val")
      ;;
    *) return 0 ;; # numbers
    esac
    [[ $cur == --*=* ]] && reply=("${reply[@]/#/$opt=}")
  elif [[ $cur == -* && $dashdash -eq 0 ]]; then
    local opts=$_cnsearch_opts_global
    case $cmd in
    '') opts+=" $_cnsearch_opts_search $_cnsearch_opts_index $_cnsearch_opts_fetch $_cnsearch_opts_watch" ;;
    search) opts+=" $_cnsearch_opts_search" ;;
    index) opts+=" $_cnsearch_opts_index" ;;
    fetch) opts+=" $_cnsearch_opts_fetch" ;;
    watch) opts+=" $_cnsearch_opts_watch" ;;
    links) opts+=" $_cnsearch_opts_links" ;;
    tags | stats) opts+=" $_cnsearch_opts_list" ;;
    esac
    [[ -z $cmd ]] && opts+=' --'
    mapfile -t reply < <(compgen -W "$opts" -- "$cur")
  else
    case $cmd in
    init)
      compopt -o filenames 2>/dev/null
      mapfile -t reply < <(compgen -d -- "$cur")
      ;;
    links | index)
      compopt -o filenames 2>/dev/null
      mapfile -t reply < <(compgen -f -- "$cur")
      ;;
    check | watch | tags | stats | fetch) ;;
    *)
      local words_here=$_cnsearch_fields
      [[ -z $cmd && $dashdash -eq 0 ]] && words_here+=" $_cnsearch_commands"
      [[ $cur != *:* ]] && mapfile -t reply < <(compgen -W "$words_here" -- "$cur")
      ;;
    esac
  fi

  # Field names end in ':' and want no space after them.
  for w in "${reply[@]}"; do
    if [[ $w == *: ]]; then
      compopt -o nospace 2>/dev/null
      break
    fi
  done
  # Bash replaces only its own last word (frag), which may be the tail of
  # cur after a '=' or ':'; drop the part of each reply before it.
  local cut=$((${#cur} - ${#frag}))
  ((cut < 0)) && cut=0
  COMPREPLY=()
  for w in "${reply[@]}"; do
    COMPREPLY+=("${w:cut}")
  done
  return 0
}

complete -F _cnsearch cnsearch
