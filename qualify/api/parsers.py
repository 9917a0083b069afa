"""The API's JSON parser: DRF's, refusing JSON nested too deeply for Python as a 400.

DRF turns a ValueError from the json module into a 400 but lets RecursionError through, so an
18 KB body of nested arrays (or objects) was a 500 on every endpoint, /api/token/ included. The
depth Python manages (about 1,000) is far past any real payload, so no limit of our own is set."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.")
