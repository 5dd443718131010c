"""The command palette's trainer commands: each is a screen action that also has a key."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, action on the main screen); the key is in the help, so the palette teaches it
COMMANDS = [
    ("Start training", "Start a run with the settings in the form (s)", "start"),
    ("Pause or resume", "Pause a running run, or resume a paused one (space)", "toggle_pause"),
    ("Single step", "Take one optimisation step, then pause (n)", "step"),
    ("Reset", "Stop the run and clear the chart (r)", "reset"),
    ("Toggle log scale", "Loss axis linear or logarithmic (l)", "toggle_log"),
    ("Toggle smoothing", "Smooth the training loss curve (m)", "toggle_smoothing"),
    ("Next theme", "Cycle through the themes (t)", "app.next_theme"),
    ("Toggle the loss landscape", "Level curves and the path walked; a classifier's decision regions (w)", "toggle_landscape"),
    ("Next kind of inspector cell", "A classifier's weight matrix: value, grad, optimizer state, optimum (c)", "cycle_cells"),
    ("Toggle the learning-rate curve", "The lr of every step on the chart (a)", "toggle_lr"),
    ("Next view", "Cycle the views: Run → Race → Learn (v)", "next_view"),
    ("Show or hide the settings form", "On a narrow screen the form takes the whole screen (f)", "toggle_form"),
    ("Double the learning rate", "Live, while a run goes (+)", "scale_lr(2)"),
    ("Halve the learning rate", "Live, while a run goes (-)", "scale_lr(0.5)"),
    ("Best learning rate", "The best constant lr for bgd or momentum, from the data's curvature (o)", "apply_optimal"),
    ("Learning rate past the limit", "bgd 5% past its stability limit, enough epochs to diverge (x)", "above_limit"),
    ("Autograd lab", "The graph of the last step; again: the next autograd lesson, run live (g)", "next_autograd_lesson"),
    ("Save the run", "In a run folder (asks where), kept up to date from then on (ctrl+s)", "save_run"),
    ("Keys", "Every key, one line each (?)", "help"),
    ("Save a screenshot", "An SVG picture of the screen, saved in the current folder", "save_screenshot"),
]


class TrainerCommands(Provider):
    """Offers the trainer's actions, run on the screen the palette was opened from."""

    def _run(self, action: str):
        async def run() -> None:
            await self.screen.run_action(action)

        return run

    async def discover(self) -> Hits:
        for title, help_text, action in COMMANDS:
            yield DiscoveryHit(title, self._run(action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._run(action), help=help_text)
