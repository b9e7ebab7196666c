"""A minimal paginator: pages are numbered from 1."""


class PageNotFound(LookupError):
    pass


class Page:
    def __init__(self, items, number, paginator):
        self.items = items
        self.number = number
        self.paginator = paginator

    def __len__(self):
        return len(self.items)

    @property
    def has_next(self):
        return self.number < self.paginator.num_pages

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def start_index(self):
        """1-based index of the first item on this page (0 for an empty page)."""
        if not self.items:
            return 0
        return (self.number - 1) * self.paginator.per_page + 1

    @property
    def end_index(self):
        """1-based index of the last item on this page (0 for an empty page)."""
        if not self.items:
            return 0
        return self.start_index + len(self.items)

    def __repr__(self):
        return f"<Page {self.number} of {self.paginator.num_pages}>"


class Paginator:
    def __init__(self, items, per_page):
        if per_page < 1:
            raise ValueError("per_page must be at least 1")
        self.items = list(items)
        self.per_page = per_page

    @property
    def count(self):
        return len(self.items)

    @property
    def num_pages(self):
        """Number of pages; an empty sequence still has one (empty) page."""
        return self.count // self.per_page + 1

    def page(self, number):
        if number < 1 or number > self.num_pages:
            raise PageNotFound(f"page {number} does not exist")
        start = (number - 1) * self.per_page
        return Page(self.items[start:start + self.per_page], number, self)

    def __iter__(self):
        for number in range(1, self.num_pages + 1):
            yield self.page(number)
