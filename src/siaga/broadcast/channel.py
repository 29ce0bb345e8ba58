"""The ``ews`` dissemination channel: each issued message of a warning (Alert, Update, Cancel) is one
delivery to the target ``carousel``, which updates what the DVB-T2 EWS carousel carries
(:func:`siaga.broadcast.onair.put_on_air`). The carousel process picks the change up at once (event
``ews.changed``) or within a second (it rereads the database)."""

from __future__ import annotations

from typing import Any

from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery
from siaga.ews.fromcap import NotBroadcastable


class EwsChannel:
    name = "ews"

    def enabled(self) -> bool:
        return True

    def targets(self, alert: Alert) -> list[str]:
        return ["carousel"] if alert.postcodes else []

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        from siaga.broadcast.onair import put_on_air
        from siaga.ews.sections import EncodeError

        try:
            return put_on_air(alert)
        except (NotBroadcastable, EncodeError) as exc:
            raise ChannelError(str(exc)) from None


CHANNEL = EwsChannel()
