# cnsearch.fish -- fish completion for cnsearch.
#
# Installed as share/fish/vendor_completions.d/cnsearch.fish, which fish
# loads the first time it completes cnsearch.  Completes the command names
# (as the first word), options with their values, and, in a query, the
# field names: "ti<TAB>" gives "title:" (fish adds no space after ':').
#
# Keep the option list in step with the option table in cnsearch.c:
# tests/cli/install.sh fails when an option that `cnsearch --help' prints
# is missing here.

# The first word that is neither an option nor an option's value, or
# nothing; "--" when the query began with "--".
function __cnsearch_command
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case --
                echo -- --
                return
            case -C --dir --index -n --limit --color --sort --jobs --max-age --idle
                set skip 1
            case '-*'
                # -n5, --limit=5 and -lq carry no separate value
            case '*'
                echo -- $w
                return
        end
    end
end

function __cnsearch_no_command
    test -z (__cnsearch_command)
end

# True when the word being completed is a query word: in a search (no
# command, or the first word was not a command name).
function __cnsearch_in_query
    switch (__cnsearch_command)
        case index check fetch links init watch tags stats
            return 1
    end
    return 0
end

function __cnsearch_command_is
    contains -- (__cnsearch_command) $argv
end

complete -c cnsearch -f

# Commands, as the first word.
complete -c cnsearch -n __cnsearch_no_command -a index -d 'bring the index up to date'
complete -c cnsearch -n __cnsearch_no_command -a check -d 'verify the index'
complete -c cnsearch -n __cnsearch_no_command -a fetch -d 'download and index the pages the notes link to'
complete -c cnsearch -n __cnsearch_no_command -a links -d 'print the links of a note and its backlinks'
complete -c cnsearch -n __cnsearch_no_command -a init -d 'make a folder a notes root'
complete -c cnsearch -n __cnsearch_no_command -a watch -d 'keep the index fresh while notes change'
complete -c cnsearch -n __cnsearch_no_command -a tags -d 'list tags with counts'
complete -c cnsearch -n __cnsearch_no_command -a stats -d 'show what the index holds'

# Query fields.
complete -c cnsearch -n __cnsearch_in_query -a title: -d 'word in the title, or /regex/'
complete -c cnsearch -n __cnsearch_in_query -a heading: -d 'word in a heading, or /regex/'
complete -c cnsearch -n __cnsearch_in_query -a link: -d 'word in a link text or URL'
complete -c cnsearch -n __cnsearch_in_query -a body: -d 'word in the text, or /regex/'
complete -c cnsearch -n __cnsearch_in_query -a tag: -d 'notes with this tag'
complete -c cnsearch -n __cnsearch_in_query -a path: -d 'text or /regex/ in the path'
complete -c cnsearch -n __cnsearch_in_query -a url: -d 'text or /regex/ in a link URL'
complete -c cnsearch -n __cnsearch_in_query -a after: -d 'dated on or after YYYY[-MM[-DD]]'
complete -c cnsearch -n __cnsearch_in_query -a before: -d 'dated before YYYY[-MM[-DD]]'
complete -c cnsearch -n __cnsearch_in_query -a links-to: -d 'notes that link to NOTE'
complete -c cnsearch -n __cnsearch_in_query -a linked-from: -d 'notes that NOTE links to'

# Arguments of commands.
complete -c cnsearch -n '__cnsearch_command_is init' -x -a '(__fish_complete_directories)'
complete -c cnsearch -n '__cnsearch_command_is links' -F
complete -c cnsearch -n '__cnsearch_command_is index' -F

# Options (all of cnsearch.c's option table).
complete -c cnsearch -s C -l dir -x -a '(__fish_complete_directories)' -d 'notes folder'
complete -c cnsearch -l index -r -F -d 'index file'
complete -c cnsearch -s n -l limit -x -d 'show at most N hits (0 = all)'
complete -c cnsearch -s l -l files-with-matches -d 'print each matching note once'
complete -c cnsearch -s c -l count -d 'print the number of hits per note'
complete -c cnsearch -l vimgrep -d 'print path:line:column:snippet'
complete -c cnsearch -l json -d 'print JSON Lines, one object per hit'
complete -c cnsearch -l color -x -a 'auto always never' -d 'colour the output'
complete -c cnsearch -l sort -x -a 'rank\t"best first (default)" path\t"by note path" date\t"newest first"' -d 'order hits'
complete -c cnsearch -l null -d 'end paths with NUL'
complete -c cnsearch -l absolute -d 'print absolute paths'
complete -c cnsearch -l explain -d 'show how each score was formed'
complete -c cnsearch -l no-update -d 'search the index as it is'
complete -c cnsearch -l no-linked -d 'search the notes alone, not linked pages'
complete -c cnsearch -l rebuild -d 'with index: build the index again'
complete -c cnsearch -l jobs -x -d 'with fetch: downloads at once'
complete -c cnsearch -l refresh -d 'with fetch: revalidate pages fetched before'
complete -c cnsearch -l max-age -x -d 'with fetch: refresh pages older than DAYS'
complete -c cnsearch -l failed -d 'with fetch: list failed URLs'
complete -c cnsearch -l idle -x -d 'with watch: stop after TIME without a search'
complete -c cnsearch -s q -l quiet -d 'print nothing but errors'
complete -c cnsearch -s h -l help -d 'show the help'
complete -c cnsearch -s V -l version -d 'show the version'
