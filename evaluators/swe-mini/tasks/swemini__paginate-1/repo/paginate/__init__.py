from .paginator import Page, PageNotFound, Paginator

__all__ = ["Page", "PageNotFound", "Paginator"]
