"""Post-purchase engagement: who should hear what and when, and why a message was held back.

Plain Python over the models, taking `now` (no Flask, no SMTP):
- `flows`: the `Flow` registry (label, defaults, subject, consent, content builder), natural
  keys; `content` declares each flow and what it says;
- `schedule`: the durable schedule (Message rows, once per natural key per shop), written
  after the business events and the daily round (app/pipeline hands them over), cancelled
  when the facts change;
- `reorder`: reorder intervals for replenishment reminders and win-back offers;
- `content`: re-checks a due message's facts and builds what it says;
- `rules`: opt-out, consent, quiet hours, the frequency cap and the reward budget;
- `reviews`, `surveys`, `preferences`: what shoppers answer through the email links;
- `links`: the signed links; `stats`: per-flow numbers.
Wake-ups for scheduled messages are asked for by app/pipeline once the schedule commits.
Delivery (templates, SMTP, the dispatcher) lives in app/messaging/.
"""

# Every flow is declared in `content`: loading the package loads the registry, so no reader of
# FLOWS (or of the program's flow defaults and labels) ever sees it half-filled.
from app.engagement import content as _flows_declared  # noqa: E402, F401
