from .describe import StatsError, mean, median, percentile, stdev, variance

__all__ = ["StatsError", "mean", "median", "percentile", "stdev", "variance"]
