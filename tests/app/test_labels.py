"""Form labels never run into their values (issue 11.10: `lr at the end0.001`)."""

import re

from tui_trainer.app.form import TEXT_FIELDS
from tui_trainer.app.widgets.setting_field import SettingField


def test_every_label_leaves_a_space_before_its_value():
    column = int(re.search(r"\.label \{ width: (\d+);", SettingField.DEFAULT_CSS).group(1))
    too_long = [field.label for field in TEXT_FIELDS if len(field.label) >= column]
    assert not too_long, f"labels of {column}+ characters touch their value: {too_long}"
