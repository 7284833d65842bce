"""The one error the analysis package raises for bad input (missing columns, empty samples)."""


class AnalysisInputError(ValueError):
    """The panel handed to the analysis does not have what a model needs.

    The message names the input (the panel and the model), the place in it (column, or
    province-year row) and what was expected, so callers can print it without a traceback.
    """
