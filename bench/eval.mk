# eval.mk -- `make eval`: ranking quality on a judged collection.
#
#   make eval                          ../shared/eval/cranfield beside the repo
#   make eval EVAL=path/to/collection  docs/, queries.tsv, qrels.tsv; ireval.py in its parent
#   make eval EVAL_RUN=build/run.tsv   also keep the run file
#   make eval BUILD=build/mine         measure that build's program
#
# A benchmark, not part of `make test`.  Included by the top-level
# Makefile (after PROG is set), or used beside it:
# `make -f Makefile -f bench/eval.mk eval`; including it twice is harmless.
# Builds $(PROG) and runs bench/eval with it; that script says how queries
# are passed and what is printed.  Results are logged in bench/EVAL.md.

ifndef EVAL_MK_INCLUDED
EVAL_MK_INCLUDED := 1

EVAL     ?= ../shared/eval/cranfield
EVAL_RUN ?=

.PHONY: eval
eval: $(PROG)
	@sh bench/eval -b $(PROG) $(if $(EVAL_RUN),-r $(EVAL_RUN)) $(EVAL)

endif
