"""The business: earning, ledger, tiers, rewards, referrals, engagement. No Flask, no HTTP."""
