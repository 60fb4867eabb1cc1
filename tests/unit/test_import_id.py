"""Issue 19.8: `import NAME ID` refuses an ID no HSS registry can have, before anything is locked or sent."""

from __future__ import annotations

import pytest

from reconciler.engine.single import check_registry_id
from reconciler.errors import ReconcilerError


@pytest.mark.parametrize("registry_id", ["", " ", "\t", "id with space", "x" * 65, "id\u0007", "id\u202e"])
def test_an_empty_or_malformed_id_is_refused_and_named_escaped(registry_id: str) -> None:
    with pytest.raises(ReconcilerError) as caught:
        check_registry_id(registry_id)
    message = str(caught.value)
    assert message.startswith("ID \"") and "nothing was sent" in message
    assert "\u0007" not in message and "\u202e" not in message


@pytest.mark.parametrize("registry_id", ["2b8c7a6d-5e4f-4a2b-9c1d-0e9f8a7b6c5d", "x" * 64, "1"])
def test_an_id_hss_can_have_is_accepted(registry_id: str) -> None:
    check_registry_id(registry_id)
