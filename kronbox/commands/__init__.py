"""The subcommands of the ``kronbox`` command line, one module each: ``diff`` and ``identity``."""
