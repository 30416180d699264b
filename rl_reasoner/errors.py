"""The one base class of input errors: the CLI prints their message as one paragraph and exits with 2.

Each module raises its own subclass (``RecipeError``, ``PipelineError``, ``EvalError``, …), named for what
was wrong; its message names the bad value and what was expected, before anything is trained or written.
"""


class UsageError(ValueError):
    """Bad input from the user (a recipe, a path, a flag); the message says what is wrong and what to do."""
