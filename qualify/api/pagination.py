from rest_framework.pagination import CursorPagination


class ScoreCursor(CursorPagination):
    """Keyset pages in queue order; constant cost at any depth."""

    ordering = ("-score", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


class IdCursor(CursorPagination):
    ordering = ("-id",)
    page_size_query_param = "page_size"
    max_page_size = 500
