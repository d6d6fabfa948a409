"""Members from another loyalty app (Smile, LoyaltyLion, Yotpo) or from our own export:
one parser per source into one row type, a preview, then a resumable import in chunks."""
