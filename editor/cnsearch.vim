" cnsearch.vim -- search your notes with cnsearch from Vim 9 or Neovim.
"
" Install: copy this file to ~/.vim/plugin/ (Vim) or
" ~/.config/nvim/plugin/ (Neovim), or :source it from your vimrc.
"
"   :CnSearch {query}    fill the quickfix list with the hits and open it
"   :LCnSearch {query}   the same with the current window's location list
"
"   g:cnsearch_program   the program to run (default 'cnsearch')
"   g:cnsearch_args      a List of extra arguments put before the query,
"                        e.g. ['-C', '~/notes', '-n', '100'] (default [])
"
" A leading ~/ in the program or in an argument stands for $HOME; nothing
" else is expanded.
"
" The rest of the line after the command is the query, exactly as typed:
" cnsearch's own syntax ("a phrase", a OR b, -word, tag:x, /regex/) applies,
" and |, ", ', $ and ; are just characters of the query.
"
" How it runs the program: as an argument list, never through a shell, so
" nothing in a query can be executed.  The command is
"
"   [g:cnsearch_program, '--vimgrep'] + g:cnsearch_args + ['--', query]
"
" Vim 9.0's system() and systemlist() take only a string that goes through
" 'shell', so in Vim the program is started with job_start() and a List,
" which execs it directly.  Its stdout and stderr go to temporary files
" that Vim opens for the child ("out_io": "file"), so once the job is dead
" both files are complete; the wait polls job_status().  Neovim's
" jobstart() also execs a List directly; with "stdout_buffered" and no
" callback it stores the whole output in the options dict, and jobwait()
" returns the exit status.
"
" Output is read with 'grepformat' %f:%l:%c:%m regardless of the user's
" setting: cnsearch's --vimgrep lines are path:line:column:snippet with a
" 1-based byte column, which is what quickfix's %c means.  Exit status 0
" fills the list, 1 (no hits) empties it and says "cnsearch: no matches",
" anything else is an error: stderr is shown and the list is left alone.

if exists('g:loaded_cnsearch')
  finish
endif
let g:loaded_cnsearch = 1

let s:save_cpo = &cpo
set cpo&vim

" Run argv (a List) without a shell.  Returns {'status': N, 'out': [lines],
" 'err': [lines]}; status is -1 when the program could not be started.
function! s:run(argv) abort
  if has('nvim')
    return s:run_nvim(a:argv)
  endif
  return s:run_vim(a:argv)
endfunction

function! s:run_vim(argv) abort
  let out = tempname()
  let err = tempname()
  let job = v:null
  try
    let job = job_start(a:argv, {
          \ 'in_io': 'null',
          \ 'out_io': 'file', 'out_name': out,
          \ 'err_io': 'file', 'err_name': err})
    while job_status(job) ==# 'run'
      sleep 10m
    endwhile
    let status = job_status(job) ==# 'fail' ? -1 : job_info(job).exitval
    return {'status': status,
          \ 'out': filereadable(out) ? readfile(out) : [],
          \ 'err': filereadable(err) ? readfile(err) : []}
  finally
    " Interrupted (CTRL-C) while waiting: do not leave the search running.
    if type(job) == v:t_job && job_status(job) ==# 'run'
      call job_stop(job, 'kill')
    endif
    call delete(out)
    call delete(err)
  endtry
endfunction

" Drop the empty item a readfile()-style List ends with at EOF.
function! s:lines(data) abort
  let data = copy(a:data)
  if !empty(data) && data[-1] ==# ''
    call remove(data, -1)
  endif
  return data
endfunction

function! s:run_nvim(argv) abort
  let opts = {'stdin': 'null', 'stdout_buffered': v:true,
        \ 'stderr_buffered': v:true}
  try
    let id = jobstart(a:argv, opts)
  catch
    return {'status': -1, 'out': [], 'err': [v:exception]}
  endtry
  if id <= 0
    return {'status': -1, 'out': [], 'err': []}
  endif
  try
    let status = jobwait([id])[0]
  finally
    " Interrupted while waiting: stop the search.
    if jobwait([id], 0)[0] == -1
      call jobstop(id)
    endif
  endtry
  if status == -2
    return {'status': -2, 'out': [], 'err': ['cnsearch: interrupted']}
  endif
  return {'status': status,
        \ 'out': s:lines(get(opts, 'stdout', [])),
        \ 'err': s:lines(get(opts, 'stderr', []))}
endfunction

" A leading ~/ replaced by $HOME (the shell's job, done here without one).
function! s:home(s) abort
  let s = type(a:s) == v:t_string ? a:s : string(a:s)
  return s =~# '^\~/' ? $HOME . s[1:] : s
endfunction

function! s:error(lines) abort
  echohl ErrorMsg
  for line in a:lines
    echomsg line
  endfor
  echohl None
  let v:errmsg = a:lines[-1]
endfunction

" Fill the quickfix list (loc == 0) or the current window's location list
" (loc == 1) with the hits for query, and open it.
function! s:search(query, loc) abort
  let prog = s:home(get(g:, 'cnsearch_program', 'cnsearch'))
  let args = get(g:, 'cnsearch_args', [])
  if type(args) != v:t_list
    return s:error(['cnsearch: g:cnsearch_args must be a List, e.g. [''-C'', ''~/notes'']'])
  endif
  let args = map(copy(args), {_, v -> s:home(v)})
  if !executable(prog)
    return s:error(['cnsearch: cannot run ''' . prog . ''': not an executable program; set g:cnsearch_program'])
  endif
  let res = s:run([prog, '--vimgrep'] + args + ['--', a:query])
  let title = (a:loc ? ':LCnSearch ' : ':CnSearch ') . a:query
  if res.status == 0 || res.status == 1
    let what = {'title': title, 'efm': '%f:%l:%c:%m',
          \ 'lines': res.status == 0 ? res.out : []}
    if a:loc
      call setloclist(0, [], ' ', what)
    else
      call setqflist([], ' ', what)
    endif
  endif
  if res.status == 0
    execute a:loc ? 'lopen' : 'botright copen'
  elseif res.status == 1
    " cnsearch may suggest close words on stderr ("did you mean: ...").
    let hint = matchstr(join(res.err, ' '), 'did you mean: .*')
    echomsg 'cnsearch: no matches' . (empty(hint) ? '' : '; ' . hint)
  else
    let err = empty(res.err) ? ['cnsearch: ''' . prog . ''' failed with exit status ' . res.status] : res.err
    call s:error(err)
  endif
endfunction

command! -nargs=+ CnSearch call s:search(<q-args>, 0)
command! -nargs=+ LCnSearch call s:search(<q-args>, 1)

let &cpo = s:save_cpo
unlet s:save_cpo
