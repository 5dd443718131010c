import pytest

from tui_trainer.app.app import TrainerApp


@pytest.fixture(autouse=True)
def every_notification_kept(monkeypatch):
    """Textual forgets a notification once its toast times out (2-10 s), and a busy machine can
    take longer than that before a test looks: keep (title, message) of each in app.notified."""
    notify = TrainerApp.notify

    def kept(self, message, *args, **kwargs):
        self.__dict__.setdefault("notified", []).append((kwargs.get("title", ""), str(message)))
        return notify(self, message, *args, **kwargs)

    monkeypatch.setattr(TrainerApp, "notify", kept)
