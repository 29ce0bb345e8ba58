"""A local BMKG replay server (real HTTP on loopback) and the feeds pointed at it."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from siaga.hazards.replay import ReplayServer


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    server = ReplayServer(hang_seconds=3.0)
    server.start()
    yield server
    server.shutdown()
    server.server_close()


class Feeds:
    def __init__(self, replay: ReplayServer) -> None:
        from siaga.hazards import poller

        self.replay = replay
        self.rows = {feed.url.rsplit("/", 1)[-1].split(".")[0]: feed for feed in poller.ensure_feeds()}
        self.client = httpx.Client(timeout=1.0)

    def poll(self, name: str) -> Any:
        from siaga.hazards import poller
        from siaga.hazards.models import Feed

        return poller.poll_once(Feed.objects.get(pk=self.rows[name].pk), self.client)

    def health(self, name: str) -> Any:
        from siaga.hazards.models import Feed

        return Feed.objects.get(pk=self.rows[name].pk)

    def publish(self, feed: str, scenario: str, **kwargs: Any) -> dict[str, Any]:
        return self.replay.state.publish(feed, scenario_name=scenario, shift_to_now=True, **kwargs)


@pytest.fixture
def feeds(replay: ReplayServer, settings: Any, reference: None) -> Iterator[Feeds]:
    urls = replay.feed_urls()
    settings.BMKG_FEEDS = [urls["autogempa"], urls["gempaterkini"]]
    settings.INATEWS_FEEDS = [urls["inatews"]]
    settings.USGS_FEEDS = [urls["usgs"]]
    settings.CAP_FEEDS = []
    settings.DRILL_FEEDS = []
    settings.POLL_TIMEOUT_SECONDS = 1.0
    found = Feeds(replay)
    yield found
    found.client.close()
