"""The Slack bot: question engine (shared with `convoscope ask`), alerts, daily digests.

`bot.service.attach` runs it inside `convoscope serve`; `bot.app.build_app` builds the
Bolt app (listeners per kind in `bot.listeners`); `bot.questions.Engine` answers.
"""
