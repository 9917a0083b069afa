"""Writing candidate pairs: one INSERT ... ON CONFLICT per batch, shared by detection and the finder.

A pair seen again gains the reasons it did not have (confidence recombined); a pair someone
dismissed or merged stays as decided: "not a duplicate" is not asked again.
"""

from __future__ import annotations

import datetime
import json

from django.db import connection

from . import rules as r

INSERT = """
INSERT INTO dedupe_duplicatecandidate AS d (kind, team_id, low_id, high_id, new_id, confidence, reasons, status, found_at)
"""
ON_CONFLICT = f"""
ON CONFLICT (kind, low_id, high_id) DO UPDATE
   SET reasons = d.reasons || (SELECT coalesce(jsonb_agg(x), '[]'::jsonb) FROM jsonb_array_elements(EXCLUDED.reasons) x
                               WHERE NOT d.reasons @> jsonb_build_array(jsonb_build_object('rule', x->'rule'))),
       confidence = (SELECT round(LEAST({r.MAX_CONFIDENCE}, 1 - exp(sum(ln(greatest(1e-9, 1 - (x->>'confidence')::float)))))::numeric, 4)
                       FROM (SELECT x FROM jsonb_array_elements(d.reasons) x
                             UNION ALL
                             SELECT x FROM jsonb_array_elements(EXCLUDED.reasons) x
                              WHERE NOT d.reasons @> jsonb_build_array(jsonb_build_object('rule', x->'rule'))) s)
 WHERE d.status = 'open'
"""
UPSERT = INSERT + """
SELECT %(kind)s, t.team_id, t.low_id, t.high_id, t.new_id, t.confidence, t.reasons, 'open', %(now)s
  FROM jsonb_to_recordset(%(rows)s::jsonb)
       AS t(team_id bigint, low_id bigint, high_id bigint, new_id bigint, confidence float, reasons jsonb)
""" + ON_CONFLICT


def save_pairs(kind: str, pairs: dict[tuple[int, int], dict], *, now: datetime.datetime) -> int:
    if not pairs:
        return 0
    rows = [{"team_id": p["team_id"], "low_id": low, "high_id": high, "new_id": p.get("new_id"),
             "confidence": p["confidence"], "reasons": p["reasons"]} for (low, high), p in pairs.items()]
    with connection.cursor() as cur:
        cur.execute(UPSERT, {"kind": kind, "now": now, "rows": json.dumps(rows)})
        return cur.rowcount
