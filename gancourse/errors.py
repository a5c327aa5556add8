"""Exception types. Every error the course raises on purpose is a ``GancourseError``, and its
message says what went wrong and what to do about it."""


class GancourseError(Exception):
    """Base class of the course's own errors."""


class DataError(GancourseError):
    """A dataset could not be found, read or validated."""


class UnknownDatasetError(DataError, KeyError):
    """A dataset name that is not in the registry."""

    def __str__(self):  # KeyError would otherwise print the message in quotes
        return str(self.args[0])


class DataNotFoundError(DataError, FileNotFoundError):
    """No local archive and the download did not work (e.g. offline)."""


class CorruptDataError(DataError, ValueError):
    """An archive exists but is not a valid dataset archive."""


class ModelError(GancourseError, ValueError):
    """A model or checkpoint does not fit what was asked of it (shapes, names, files)."""


class ConfigError(GancourseError, ValueError):
    """An option value out of range, or a run resumed with options other than its own."""


class OutputError(GancourseError, OSError):
    """A file could not be written (disk full, read-only folder, a folder in the way)."""


class TrainingError(GancourseError, RuntimeError):
    """Training cannot go on (e.g. the losses became NaN)."""


class MetricError(GancourseError, ValueError):
    """Inputs a metric cannot work with (shapes, ranges, too few samples, not a covariance)."""


class ExtractorUnavailableError(GancourseError, RuntimeError):
    """A feature extractor whose weights cannot be had (e.g. Inception weights offline)."""


class RunInUseError(GancourseError, RuntimeError):
    """A run folder is being written by another training (a live process holds its lock)."""
