import pytest

from qualify.imports.parsing import Bad
from qualify.imports.validation import stage_path
from qualify.leads.models import Stage


def test_stage_path_never_makes_a_move_the_lifecycle_refuses():
    assert stage_path(Stage.NEW, Stage.LOST, with_mql=False) == ["working", "handed_off", "accepted", "opportunity", "lost"]
    assert stage_path(Stage.NURTURE, Stage.WON, with_mql=False)[0] == "working"
    for current, target in ((Stage.LOST, Stage.WON), (Stage.DISQUALIFIED, Stage.WON), (Stage.WON, Stage.LOST)):
        with pytest.raises(Bad):
            stage_path(current, target, with_mql=False)
    with pytest.raises(Bad, match="already"):
        stage_path(Stage.OPPORTUNITY, Stage.ACCEPTED, with_mql=False)
