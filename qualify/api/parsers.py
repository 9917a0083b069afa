"""The API's JSON parser: DRF's, refusing as a 400 what no field can take.

DRF turns a ValueError from the json module into a 400 but lets RecursionError through, so an
18 KB body of nested arrays (or objects) was a 500 on every endpoint, /api/token/ included. The
depth Python manages (about 1,000) is far past any real payload, so no limit of our own is set.

JSON's "\\ud800" without its pair decodes to a lone surrogate, which neither UTF-8 nor PostgreSQL
holds: echoed in an error (`{"to": "\\ud800"}` to a move, an unknown property key) the answer
could not be encoded, a 500. Such a body is refused whole, before any field sees it, except where
the view refuses it item by item (middleware.PER_ITEM_PATHS)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from qualify.middleware import PER_ITEM_PATHS
from qualify.storable import has_surrogate


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.")
        request = (parser_context or {}).get("request")
        if not (request is not None and request.path.startswith(PER_ITEM_PATHS)) and has_surrogate(data):
            raise ParseError("JSON parse error - a lone surrogate (half of a \\ud800-\\udfff pair), which no field can store.")
        return data
