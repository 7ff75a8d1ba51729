# eval.mk -- `make eval`: ranking quality on a judged collection.
#
#   make eval                          ../shared/eval/cranfield beside the repo
#   make eval EVAL=path/to/collection  docs/, queries.tsv, qrels.tsv; ireval.py in its parent
#   make eval EVAL_RUN=build/run.tsv   also keep the run file
#
# A benchmark, not part of `make test`.  Builds $(PROG) (so BUILD= works as
# everywhere else) and runs bench/eval with it; see that script for how
# queries are passed and what is printed.

EVAL     ?= ../shared/eval/cranfield
EVAL_RUN ?=

.PHONY: eval
eval: $(PROG)
	@sh bench/eval -b $(PROG) $(if $(EVAL_RUN),-r $(EVAL_RUN)) $(EVAL)
