"""The workbench's own exception family and the exit codes the CLI maps them to.

Exit codes
----------
0  done
1  done, but at least one analysis ended with status ``error``
2  usage error (bad option, unknown analysis or parameter)
3  an evidence file could not be read or decoded
4  an evidence file changed while it was being analysed (hash before != hash after)
5  verify found a file changed, missing or added, or a broken custody log
6  an output folder cannot be made or written (a path under a file, no permission, a read-only
   or full disk), or another run is writing to it
130 interrupted (Ctrl-C); finished reports are complete, none is half-written
"""

EXIT_OK = 0
EXIT_ANALYSIS_ERROR = 1
EXIT_USAGE = 2
EXIT_EVIDENCE = 3
EXIT_EVIDENCE_CHANGED = 4
EXIT_VERIFY_FAILED = 5
EXIT_OUTPUT = 6
EXIT_INTERRUPTED = 130


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""

    exit_code = EXIT_ANALYSIS_ERROR


class ParameterError(WorkbenchError):
    """A parameter, option or analysis name is not valid."""

    exit_code = EXIT_USAGE


class EvidenceError(WorkbenchError):
    """An evidence file cannot be opened, read or decoded.

    The message is one sentence that names the reason; the CLI prefixes the file name.
    """

    exit_code = EXIT_EVIDENCE


class ReportError(WorkbenchError):
    """A report file cannot be read or is not a workbench report."""

    exit_code = EXIT_USAGE


class OutputError(WorkbenchError):
    """An output folder cannot be made or written, or another run holds it."""

    exit_code = EXIT_OUTPUT


class VerifyError(WorkbenchError):
    """Outputs no longer match their manifest, or a custody log's chain is broken."""

    exit_code = EXIT_VERIFY_FAILED
