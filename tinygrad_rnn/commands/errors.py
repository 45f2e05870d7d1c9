"""The error every subcommand raises for a mistake of the user's: the CLI prints it as one line."""


class CLIError(Exception):
    """A bad argument, file or checkpoint; the message says what is wrong and, if possible, what to do."""
