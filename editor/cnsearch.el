;;; cnsearch.el --- Search markdown notes with cnsearch  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "26.1"))
;; Keywords: matching, files

;;; Commentary:

;; `M-x cnsearch RET QUERY RET' (or `(cnsearch QUERY)') runs the cnsearch
;; program asynchronously and lists its hits in the buffer *cnsearch*, in
;; `grep-mode': RET or a click visits a hit, `next-error' (M-g n, C-x `)
;; and `previous-error' (M-g p) walk them from any buffer, and `g' in
;; *cnsearch* runs the search again.
;;
;; Configure `cnsearch-program' (default "cnsearch") and `cnsearch-args'
;; (a list of extra arguments, e.g. ("-C" "~/notes" "-n" "100")).  A
;; leading "~/" in either is expanded; nothing else is.
;;
;; How it runs the program: `make-process' with an argument list, never a
;; shell, so nothing in a query is ever interpreted by a shell -- quotes,
;; `|', `;' and `$(...)' are characters of the query.  The command is
;;
;;   PROGRAM --vimgrep ARGS... -- QUERY
;;
;; and QUERY is a single argument that cnsearch parses with its own syntax
;; ("a phrase", a OR b, -word, tag:x, /regex/).  `compile.el's
;; `compilation-start' always goes through `shell-file-name', which is why
;; this package sets the buffer up itself and uses only compile.el's
;; filter and sentinel.
;;
;; Columns: cnsearch's --vimgrep lines are PATH:LINE:COLUMN:SNIPPET with a
;; 1-based *byte* column, while Emacs moves by characters.  The column of
;; each hit is therefore converted by reading that line of the file as
;; bytes and counting the characters before the column (a UTF-8 BOM on
;; line 1 is not counted, as cnsearch does not count it and Emacs hides
;; it), so `next-error' lands on the matched word even after multi-byte
;; characters or tabs.  Exit status 1 means no hits; anything else but 0
;; is an error whose message cnsearch wrote on stderr, shown in the buffer.

;;; Code:

(require 'compile)
(require 'grep)

(defgroup cnsearch nil
  "Search markdown notes with the cnsearch program."
  :group 'tools
  :prefix "cnsearch-")

(defcustom cnsearch-program "cnsearch"
  "The cnsearch program: a name looked up in `exec-path', or a file name."
  :type 'string)

(defcustom cnsearch-args nil
  "Extra arguments for `cnsearch-program', put before the query.
For example (\"-C\" \"~/notes\" \"-n\" \"100\").  A leading \"~/\" is
expanded; the list is passed to the program as it is, without a shell."
  :type '(repeat string))

(defconst cnsearch-buffer-name "*cnsearch*"
  "Name of the buffer that lists the hits.")

(defvar cnsearch-history nil
  "Minibuffer history of `cnsearch' queries.")

(defconst cnsearch--hit-regexp
  "^\\([^\n]+?\\):\\([1-9][0-9]*\\):\\([1-9][0-9]*\\):"
  "A --vimgrep line: path, line, byte column, then the snippet.
The path is matched lazily, so a path holding \":\" still parses as long
as \":LINE:COLUMN:\" follows it.")

(defvar-local cnsearch--query nil
  "The query whose hits the *cnsearch* buffer shows.")

(defvar-local cnsearch--lines nil
  "Cache for column conversion: file name -> vector of its lines as bytes.
Local to the *cnsearch* buffer and emptied by each search.")

(defun cnsearch--expand (arg)
  "ARG with a leading \"~/\" replaced by the home directory."
  (if (string-prefix-p "~/" arg) (expand-file-name arg) arg))

(defun cnsearch--file-lines (name)
  "The lines of the file NAME as unibyte strings, in a vector.
An unreadable file gives an empty vector.  Cached in `cnsearch--lines'."
  (unless cnsearch--lines
    (setq cnsearch--lines (make-hash-table :test #'equal)))
  (or (gethash name cnsearch--lines)
      (puthash name
               (condition-case nil
                   (with-temp-buffer
                     (set-buffer-multibyte nil)
                     (insert-file-contents-literally name)
                     (vconcat (split-string (buffer-string) "\n")))
                 (file-error []))
               cnsearch--lines)))

(defun cnsearch--column ()
  "The 1-based character column of the hit `cnsearch--hit-regexp' matched.
cnsearch prints byte columns; count the characters in the bytes before
the column on that line of the file.  Falls back to the byte column when
the file or line cannot be read."
  (save-match-data
    (let* ((name (expand-file-name (match-string-no-properties 1)))
           (line (string-to-number (match-string-no-properties 2)))
           (col (string-to-number (match-string-no-properties 3)))
           (lines (cnsearch--file-lines name))
           (text (and (<= line (length lines)) (aref lines (1- line)))))
      (if (not text)
          col
        (when (and (= line 1) (string-prefix-p "\xef\xbb\xbf" text))
          (setq text (substring text 3)))
        (1+ (length (decode-coding-string
                     (substring text 0 (min (1- col) (length text)))
                     'utf-8)))))))

(defun cnsearch--exit-message (status code msg)
  "The message `compilation-handle-exit' writes when cnsearch ends.
STATUS, CODE and MSG are as for `compilation-exit-message-function'."
  (if (not (eq status 'exit))
      (cons msg code)
    (pcase code
      (0 (let ((n (save-excursion
                    (goto-char (point-min))
                    (how-many cnsearch--hit-regexp))))
           (cons (format "finished with %d hit%s\n" n (if (= n 1) "" "s"))
                 "matched")))
      (1 '("finished with no matches found\n" . "no match"))
      (_ (cons (format "exited abnormally with code %d\n" code)
               (number-to-string code))))))

(defun cnsearch--program ()
  "The file name of `cnsearch-program', or a `user-error' saying why not.
A name with a directory part is taken relative to `default-directory';
a bare name is looked up in `exec-path'.  Checked here because
`make-process' reports a missing program only when it has already
failed to start."
  (let* ((name (cnsearch--expand cnsearch-program))
         (file (if (file-name-directory name)
                   (and (file-executable-p (expand-file-name name))
                        (not (file-directory-p (expand-file-name name)))
                        (expand-file-name name))
                 (executable-find name))))
    (or file
        ;; format, not format-message: keep git's 'quotes'.
        (user-error "%s" (format "cnsearch: cannot run '%s': no such program; set cnsearch-program"
                                 name)))))

(defun cnsearch-rerun ()
  "Run the search shown in the *cnsearch* buffer again."
  (interactive)
  (unless cnsearch--query
    (user-error "cnsearch: no search to run again"))
  (cnsearch cnsearch--query))

(defvar cnsearch-results-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map "g" #'cnsearch-rerun)
    map)
  "Keys of the *cnsearch* buffer beyond `grep-mode's.
`g' would otherwise be `recompile', which runs `compile-command'.")

(define-minor-mode cnsearch-results-mode
  "Minor mode of the *cnsearch* buffer: \\<cnsearch-results-mode-map>\\[cnsearch-rerun] searches again."
  :lighter nil
  :keymap cnsearch-results-mode-map)

;;;###autoload
(defun cnsearch (query)
  "Search the notes for QUERY with `cnsearch-program'.
The hits are listed in the buffer *cnsearch*, in `grep-mode', so that
\\[next-error] visits them one after another.  The program runs
asynchronously, started with `cnsearch-args' and QUERY as an argument
list (no shell).  Returns the process."
  (interactive (list (read-string "cnsearch: " nil 'cnsearch-history)))
  (when (string= query "")
    (user-error "cnsearch: no query given"))
  (let* ((dir default-directory)
         (program (cnsearch--program))
         (command (append (list program "--vimgrep")
                          (mapcar #'cnsearch--expand cnsearch-args)
                          (list "--" query)))
         (buf (get-buffer-create cnsearch-buffer-name))
         (old (get-buffer-process buf)))
    (when old
      ;; A new search replaces a running one, without its last words.
      (set-process-sentinel old #'ignore)
      (delete-process old)
      (setq compilation-in-progress (delq old compilation-in-progress)))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (setq default-directory dir)
        (erase-buffer)
        (buffer-disable-undo)
        (grep-mode)
        (setq mode-name "cnsearch")
        (setq-local compilation-error-regexp-alist
                    (list (list cnsearch--hit-regexp 1 2 #'cnsearch--column)))
        (setq-local compilation-first-column 1)
        (setq-local compilation-error-screen-columns nil)
        (setq-local compilation-exit-message-function #'cnsearch--exit-message)
        (setq cnsearch--query query)
        (setq-local revert-buffer-function
                    (lambda (&rest _) (cnsearch-rerun)))
        (cnsearch-results-mode 1)
        (setq cnsearch--lines nil)
        (insert "-*- mode: grep; default-directory: "
                (prin1-to-string (abbreviate-file-name dir)) " -*-\n"
                "cnsearch started at "
                (substring (current-time-string) 0 19) "\n\n"
                (mapconcat #'shell-quote-argument command " ") "\n")
        ;; Nothing above this point is a hit (compile.el's convention).
        (put-text-property (1- (point)) (point) 'compilation-header-end t)
        (set-buffer-modified-p nil))
      (let ((proc (make-process :name "cnsearch"
                                :buffer buf
                                :command command
                                :connection-type 'pipe
                                :noquery t
                                :filter #'compilation-filter
                                :sentinel #'compilation-sentinel)))
        (set-marker (process-mark proc) (point-max) buf)
        (condition-case nil
            (process-send-eof proc)
          (error nil))
        (setq mode-line-process
              '((:propertize ":%s" face compilation-mode-line-run)
                compilation-mode-line-errors))
        (push proc compilation-in-progress)
        (goto-char (point-min))
        (display-buffer buf '(nil (allow-no-window . t)))
        (setq next-error-last-buffer buf)
        proc))))

(provide 'cnsearch)
;;; cnsearch.el ends here
