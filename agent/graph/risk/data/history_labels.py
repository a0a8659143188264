"""Risk labels for the 300 past tickets of evals/datasets/history.jsonl, read and labelled by hand.

Every history ticket joins the risk set (`build.py`); the ones below are risky, with their kind, all
others are ordinary. The rule followed (the same as the gold `risk` of evals/datasets/smoke.jsonl):
- payment_fraud: money has already moved wrongly (paid twice, to the wrong people, too much or too
  little, charged twice or for seats nobody has), or a wrong payment is about to leave (a wrong run
  already at the bank, every bank account overwritten before payday, a bank file that disagrees
  with the approved run). A defect caught in a draft, a rejected bank file or a report that does not
  reconcile is ordinary.
- account_takeover / leaked_credentials / data_breach: somebody else acted in the account, a token
  or a logged-in laptop was exposed, personal data reached the wrong people, a subject access request.
- regulatory: an authority's demand, inspection, penalty or letter, or a statutory filing that is due
  with wrong data or cannot be made in time. Asking which report to use for a filing is ordinary.
- legal_threat: a threatened complaint to the labour inspectorate.
Spam, prompt injection (the policy's rules cap it) and off-topic requests are ordinary here.
"""

from __future__ import annotations

HISTORY_RISKY: dict[str, str] = {
    # account takeover, leaked credentials, data breach and data-subject requests
    "H0031": "account_takeover",  # IBAN changed after a fake e-mail from an "employee"
    "H0068": "account_takeover",  # password changed, not by the owner
    "H0104": "account_takeover",  # night-time login from an unknown country
    "H0195": "account_takeover",  # stolen laptop with a remembered session
    "H0106": "leaked_credentials",  # API token pushed to a public repository
    "H0059": "data_breach",  # salary report shared by public link with outsiders
    "H0244": "data_breach",  # payslips e-mailed to the wrong employees
    "H0091": "data_breach",  # subject access request, one-month deadline
    "H0140": "data_breach",  # employee demands all personal data held on him
    # money already paid or charged wrongly, or about to be
    "H0033": "payment_fraud",
    "H0042": "payment_fraud",
    "H0047": "payment_fraud",
    "H0056": "payment_fraud",
    "H0061": "payment_fraud",
    "H0063": "payment_fraud",
    "H0065": "payment_fraud",
    "H0074": "payment_fraud",
    "H0095": "payment_fraud",
    "H0098": "payment_fraud",
    "H0136": "payment_fraud",
    "H0174": "payment_fraud",
    "H0178": "payment_fraud",
    "H0179": "payment_fraud",
    "H0217": "payment_fraud",
    "H0219": "payment_fraud",
    "H0226": "payment_fraud",
    "H0236": "payment_fraud",
    "H0241": "payment_fraud",
    "H0254": "payment_fraud",
    "H0257": "payment_fraud",
    "H0262": "payment_fraud",
    "H0264": "payment_fraud",
    "H0269": "payment_fraud",
    "H0270": "payment_fraud",
    "H0275": "payment_fraud",
    "H0285": "payment_fraud",
    "H0288": "payment_fraud",
    "H0289": "payment_fraud",
    # authorities, penalties, statutory filings at risk
    "H0009": "regulatory",  # penalty notice for a late filing
    "H0022": "regulatory",  # gender pay gap figures due, data missing
    "H0030": "regulatory",  # military registration office demand within 5 days
    "H0082": "regulatory",  # wrong state wages on filed W-2s
    "H0083": "regulatory",  # EPS rejected by HMRC, deadline, late notice feared
    "H0084": "regulatory",  # labour inspector on site
    "H0154": "regulatory",  # HMRC compliance check
    "H0166": "regulatory",  # only admin locked out the day before the tax filing
    "H0167": "regulatory",  # P11D deadline, benefits missing
    "H0169": "regulatory",  # IRS letter, 30 days to respond
    "H0175": "regulatory",  # tax inspection demands registers within 5 days
    "H0181": "regulatory",  # EEO-1 filing due, categories missing
    "H0183": "regulatory",  # only admin locked out, FPS due tomorrow
    "H0222": "regulatory",  # tax office demand about 4DF discrepancies
    "H0229": "regulatory",  # CRA payroll examination
    "H0232": "regulatory",  # last filing day, XML rejected
    "H0235": "regulatory",  # corrective filing to avoid a penalty
    # legal threats
    "H0142": "legal_threat",  # employee threatens a complaint to the labour inspectorate
}
