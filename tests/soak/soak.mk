# make soak [SOAK_SECONDS=60] [SOAK_CONNS=200]: see tests/soak/soak.py.
# Not part of make check.
SOAK_SECONDS	?= 60
SOAK_CONNS	?= 200

.PHONY: soak

soak: $(PROG) $(BACKENDS)
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CONNS=$(SOAK_CONNS) \
	    WSGATED=$(CURDIR)/$(PROG) \
	    ECHO_BACKEND=$(CURDIR)/tests/backends/echo-backend \
	    $(PYTHON) tests/soak/soak.py
