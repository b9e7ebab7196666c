from .calendar import add_months, end_of_month, quarter

__all__ = ["add_months", "end_of_month", "quarter"]
