#!/bin/sh
# editor.sh -- the front ends in editor/, driven by the real editors in
# batch mode over a copy of corpus/.
#
#   Vim (and Neovim when installed): source editor/cnsearch.vim, run
#   :CnSearch and :LCnSearch, and compare the quickfix and location lists
#   (file, line, column, text, order) with `cnsearch --vimgrep`.  Queries
#   full of shell and Vim syntax go through a wrapper program that records
#   its argv: each must arrive as one argument after "--", byte for byte,
#   and none may create a file.  Then no hits (exit 1), a query error
#   (exit 2) and a missing program.
#   Emacs: editor/cnsearch.el byte-compiles with warnings as errors;
#   (cnsearch "FSDP") fills *cnsearch* with the --vimgrep lines and
#   next-error lands on the first hit's file, line and byte column, also
#   after multi-byte characters, a tab, a BOM and CRLF line ends.
#
# An editor that is not installed is skipped with a note (no counts);
# .ci/run installs vim-nox and emacs-nox so CI always runs both.
. "$(dirname "$0")/lib.sh"
# lib.sh's fail() echoes, and dash's echo turns "\0" or "\c" in a message
# (a path, a repr of bytes) into a NUL or a cut; print messages verbatim.
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s: %s\n' "$NAME" "$*"; }
setup
cd "$TMP"
export NOTES ROOT TMP

# Notes whose hits sit after multi-byte characters and tabs, after a BOM,
# and on CRLF lines: the editors must convert or skip these correctly.
printf '# Columns\n\ncaf\303\251\tna\303\257ve \342\200\224 zorblaxq here\n' > "$NOTES/columns.md"
printf '\357\273\277zorblaxb on the first line of a BOM note\r\n\r\nand zorblaxc on a CRLF line\r\n' > "$NOTES/bom.md"
run "$BIN" -C "$NOTES" index
expect_rc 0 "index the corpus copy"

# A program that records its arguments, one per line, then runs cnsearch.
cat > "$TMP/argv-recorder" <<'EOF'
#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done > "$ARGV_LOG"
exec "$CNSEARCH_BIN" "$@"
EOF
chmod +x "$TMP/argv-recorder"

# Queries that would run something if they ever reached a shell or Vim's
# command line.  One per line; each must be searched literally.
cat > "$TMP/hostile" <<'EOF'
x'; touch PWNED1; echo '
$(touch PWNED2)
a|b
`touch PWNED3`
"; touch PWNED4; echo "
fsdp; touch PWNED5 && echo
fsdp | !touch PWNED6
x' | call writefile([], 'PWNED7') | echo '
fsdp" | call writefile([], "PWNED8") | "
100% #1 <cword> <q-args> \n ~ * $HOME \ \\
EOF

no_pwned() { # description
  found=$(find "$TMP" "$ROOT" -maxdepth 3 -name 'PWNED*' 2>/dev/null)
  if [ -z "$found" ]; then pass; else fail "$1: created $found"; rm -f $found; fi
}

# ------------------------------------------------------------------ Vim

# The same script drives Vim and Neovim; results go to files in $OUTDIR.
cat > "$TMP/test.vim" <<'EOF'
set nomore
" The plugin must not depend on the user's formats.
set errorformat=%m grepformat=%m
source $ROOT/editor/cnsearch.vim
let g:cnsearch_program = $CNSEARCH_BIN
let g:cnsearch_args = ['-C', $NOTES]
function! Dump(list, name) abort
  call writefile(map(copy(a:list),
        \ {_, e -> bufname(e.bufnr) . ':' . e.lnum . ':' . e.col . ':' . e.text}),
        \ $OUTDIR . '/' . a:name)
endfunction
function! Note(name, lines) abort
  call writefile(a:lines, $OUTDIR . '/' . a:name)
endfunction

CnSearch FSDP
call Dump(getqflist(), 'qf')
call Note('qf-info', [getqflist({'title': 1}).title, &buftype])

cclose
LCnSearch FSDP
call Note('loc-info', [&buftype, getloclist(0, {'title': 1}).title])
wincmd p
call Dump(getloclist(0), 'loc')
lclose

let v:errmsg = ''
CnSearch qwxzzyqq
call Note('none', [len(getqflist()), getqflist({'title': 1}).title, v:errmsg,
      \ split(execute('messages'), "\n")[-1]])

CnSearch FSDP
let v:errmsg = ''
CnSearch "unbalanced FSDP
call Note('error', [v:errmsg, len(getqflist()), getqflist({'title': 1}).title])

let g:cnsearch_program = $TMP . '/no-such-cnsearch'
let v:errmsg = ''
CnSearch FSDP
call Note('missing', [v:errmsg])

let g:cnsearch_program = $TMP . '/argv-recorder'
source $OUTDIR/hostile.vim
qall!
EOF

vim_run() { # editor binary name, then its arguments
  ed=$1; shift
  OUTDIR=$TMP/out-$ed; export OUTDIR
  rm -rf "$OUTDIR" "$TMP"/argv.*; mkdir -p "$OUTDIR"
  # For each hostile query: point the recorder at a file, clear the error,
  # search, and note what Vim says.
  n=0
  while IFS= read -r q; do
    n=$((n + 1))
    printf "let \$ARGV_LOG = \$TMP . '/argv.%d'\nlet v:errmsg = ''\n" "$n"
    printf 'CnSearch %s\n' "$q"
    printf "call Note('hostile.%d', [v:errmsg])\n" "$n"
  done < "$TMP/hostile" > "$OUTDIR/hostile.vim"
  (cd "$TMP" && timeout 60 "$ed" "$@" -S "$TMP/test.vim" </dev/null >"$OUTDIR/stdout" 2>&1)
  rc=$?
  [ $rc -eq 0 ] && pass || fail "$ed: batch run ended with status $rc: $(cat "$OUTDIR/stdout")"

  want=$("$BIN" -C "$NOTES" --no-update --vimgrep FSDP)
  expect_match "$want" '^notes/papers/fsdp\.md:[0-9]+:[0-9]+:' "$ed: --vimgrep FSDP has hits"
  expect_eq "$(cat "$OUTDIR/qf" 2>/dev/null)" "$want" "$ed: :CnSearch FSDP quickfix = --vimgrep (files, lines, columns, text, order)"
  expect_eq "$(cat "$OUTDIR/qf-info" 2>/dev/null)" ":CnSearch FSDP
quickfix" "$ed: quickfix list titled and opened"
  expect_eq "$(cat "$OUTDIR/loc" 2>/dev/null)" "$want" "$ed: :LCnSearch FSDP location list = --vimgrep"
  expect_eq "$(cat "$OUTDIR/loc-info" 2>/dev/null)" "quickfix
:LCnSearch FSDP" "$ed: location list titled and opened"
  expect_eq "$(cat "$OUTDIR/none" 2>/dev/null)" "0
:CnSearch qwxzzyqq

cnsearch: no matches" "$ed: no hits: empty list, a message, no error"
  expect_match "$(sed -n 1p "$OUTDIR/error" 2>/dev/null)" "^cnsearch: unbalanced quote" "$ed: exit 2 shows cnsearch's error"
  expect_eq "$(sed 1d "$OUTDIR/error" 2>/dev/null)" "$(printf '%s\n' "$want" | wc -l | tr -d ' ')
:CnSearch FSDP" "$ed: exit 2 leaves the list alone"
  expect_match "$(cat "$OUTDIR/missing" 2>/dev/null)" "^cnsearch: cannot run '.*/no-such-cnsearch'" "$ed: missing program"

  n=0
  while IFS= read -r q; do
    n=$((n + 1))
    expect_eq "$(cat "$TMP/argv.$n" 2>/dev/null)" "$(printf '%s\n' --vimgrep -C "$NOTES" -- "$q")" \
      "$ed: hostile query $n reaches cnsearch as one argument: $q"
    expect_no_match "$(cat "$OUTDIR/hostile.$n" 2>/dev/null)" '^E[0-9]+' "$ed: hostile query $n raises no Vim error"
  done < "$TMP/hostile"
  no_pwned "$ed: hostile queries execute nothing"
}

if command -v vim >/dev/null 2>&1; then
  vim_run vim -Nu NONE -i NONE -Es
else
  echo "note: $NAME: vim not installed; Vim tests skipped"
fi
if command -v nvim >/dev/null 2>&1; then
  vim_run nvim -u NONE -i NONE -Es
else
  echo "note: $NAME: nvim not installed; Neovim tests skipped"
fi

# ---------------------------------------------------------------- Emacs

# test-lib.el runs a search and waits for it.  test.el, for each query on
# the command line: (cnsearch QUERY), print the buffer's hit lines, then
# next-error and print where it landed as VISIT path:line:bytecol:.
cat > "$TMP/test-lib.el" <<'EOF'
;;; -*- lexical-binding: t -*-
(setq cnsearch-program (getenv "CNSEARCH_BIN")
      cnsearch-args (list "-C" (getenv "NOTES")))
(defvar test-done nil)
(add-hook 'compilation-finish-functions (lambda (_buf _msg) (setq test-done t)))
(defun test-search (query)
  (setq test-done nil)
  (let ((proc (cnsearch query))
        (deadline (+ (float-time) 30)))
    (while (and (not test-done) (< (float-time) deadline))
      (accept-process-output proc 0.05))
    (unless test-done (princ "TIMEOUT\n"))))
EOF
cat > "$TMP/test.el" <<'EOF'
;;; -*- lexical-binding: t -*-
(dolist (query command-line-args-left)
  (princ (format "QUERY %s\n" query))
  (test-search query)
  (with-current-buffer "*cnsearch*"
    (goto-char (point-min))
    (while (re-search-forward "^\\([^\n]+?:[0-9]+:[0-9]+:\\).*$" nil t)
      (princ (format "HIT %s\n" (match-string 1))))
    (princ (format "MODE %s\n" major-mode))
    (princ (format "KEY-G %s\n" (key-binding (kbd "g")))))
  (condition-case err
      (progn
        (next-error)
        (with-current-buffer (window-buffer (selected-window))
          (goto-char (window-point))
          (princ (format "VISIT %s:%d:%d:\n"
                         (file-relative-name (file-truename buffer-file-name)
                                             (file-truename (getenv "TMP")))
                         (line-number-at-pos)
                         (1+ (- (position-bytes (point))
                                (position-bytes (line-beginning-position))))))))
    (error (princ (format "NO-VISIT %s\n" (error-message-string err)))))
  (with-current-buffer "*cnsearch*"
    (goto-char (point-max))
    (forward-line -1)
    (princ (format "END %s\n" (buffer-substring (point) (line-end-position)))))
  (delete-other-windows)
  (switch-to-buffer "*scratch*"))
(setq command-line-args-left nil)
EOF

emacs_run() { # query...
  (cd "$TMP" && timeout 120 emacs -Q --batch -L "$ROOT/editor" --eval "(require 'cnsearch)" \
    -l "$TMP/test-lib.el" -l "$TMP/test.el" "$@" </dev/null 2>"$TMP/emacs.err")
}

# The hit lines as the test prints them, from cnsearch itself.
hits_of() { # query
  "$BIN" -C "$NOTES" --no-update --vimgrep -- "$1" | sed -n 's/^\([^:]*:[0-9]*:[0-9]*:\).*/HIT \1/p'
}

if command -v emacs >/dev/null 2>&1; then
  # Byte-compiles without a single warning (a copy, to leave no .elc behind).
  mkdir -p "$TMP/elc"
  cp "$ROOT/editor/cnsearch.el" "$TMP/elc/"
  run emacs -Q --batch --eval '(setq byte-compile-error-on-warn t)' \
    -f batch-byte-compile "$TMP/elc/cnsearch.el"
  expect_rc 0 "cnsearch.el byte-compiles with warnings as errors"
  expect_no_match "$OUT$ERR" '[Ww]arning' "byte-compile prints no warning"
  [ -f "$TMP/elc/cnsearch.elc" ] && pass || fail "cnsearch.elc written"

  out=$(emacs_run FSDP zorblaxq zorblaxb zorblaxc)
  [ $? -eq 0 ] && pass || fail "emacs batch run failed: $(cat "$TMP/emacs.err")"
  section() { printf '%s\n' "$out" | sed -n "/^QUERY $1\$/,/^END /p"; }

  fsdp=$(section FSDP)
  want=$(hits_of FSDP)
  expect_eq "$(printf '%s\n' "$fsdp" | grep '^HIT ')" "$want" "emacs: *cnsearch* holds the --vimgrep hits in order"
  expect_match "$fsdp" '^MODE grep-mode$' "emacs: *cnsearch* is in grep-mode"
  expect_match "$fsdp" '^KEY-G cnsearch-rerun$' "emacs: g in *cnsearch* searches again (not recompile)"
  first=$(printf '%s\n' "$want" | head -n 1 | sed 's/^HIT //')
  expect_match "$fsdp" "^VISIT $first\$" "emacs: next-error visits the first hit's file, line and column"
  expect_match "$fsdp" '^END .*finished with 1?[0-9]+ hits' "emacs: the buffer says how many hits"
  for q in zorblaxq zorblaxb zorblaxc; do
    first=$(hits_of $q | head -n 1 | sed 's/^HIT //')
    expect_match "$first" '^notes/' "emacs: $q has a hit"
    expect_match "$(section $q)" "^VISIT $first\$" "emacs: next-error lands on the byte column for $q"
  done

  # No hits, a query error, a missing program, hostile queries.
  out=$(emacs_run qwxzzyqq '"unbalanced')
  expect_match "$(section qwxzzyqq)" '^END .*finished with no matches found' "emacs: no hits"
  expect_match "$(section '"unbalanced')" '^END .*exited abnormally with code 2' "emacs: exit 2 reported"
  expect_match "$(section '"unbalanced')" '^NO-VISIT ' "emacs: nothing to visit after an error"

  # Each hostile query must reach the program as one argument.
  cat > "$TMP/hostile.el" <<'EOF'
;;; -*- lexical-binding: t -*-
(setq cnsearch-program (concat (getenv "TMP") "/argv-recorder"))
(let ((n 0))
  (dolist (query command-line-args-left)
    (setq n (1+ n))
    (setenv "ARGV_LOG" (format "%s/argv.el.%d" (getenv "TMP") n))
    (test-search query)))
(setq command-line-args-left nil)
EOF
  set --
  while IFS= read -r q; do set -- "$@" "$q"; done < "$TMP/hostile"
  (cd "$TMP" && timeout 120 emacs -Q --batch -L "$ROOT/editor" --eval "(require 'cnsearch)" \
    -l "$TMP/test-lib.el" -l "$TMP/hostile.el" "$@" </dev/null >"$TMP/emacs.out" 2>&1)
  [ $? -eq 0 ] && pass || fail "emacs hostile run failed: $(cat "$TMP/emacs.out")"
  n=0
  while IFS= read -r q; do
    n=$((n + 1))
    expect_eq "$(cat "$TMP/argv.el.$n" 2>/dev/null)" "$(printf '%s\n' --vimgrep -C "$NOTES" -- "$q")" \
      "emacs: hostile query $n reaches cnsearch as one argument: $q"
  done < "$TMP/hostile"
  no_pwned "emacs: hostile queries execute nothing"

  run emacs -Q --batch -L "$ROOT/editor" --eval "(require 'cnsearch)" \
    --eval '(setq cnsearch-program "/nonexistent/cnsearch")' \
    --eval '(condition-case e (cnsearch "x") (user-error (princ (error-message-string e))))'
  expect_match "$OUT" "^cnsearch: cannot run '/nonexistent/cnsearch'" "emacs: missing program is a user error"
else
  echo "note: $NAME: emacs not installed; Emacs tests skipped"
fi

finish
