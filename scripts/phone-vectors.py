#!/usr/bin/env python3
"""Writes crates/portcullis/src/domain/phone/vectors.json: phone numbers as
users type them, with what Google's libphonenumber (its Python port,
`phonenumbers`, at the metadata release the Rust `phonenumber` crate
embeds) says of them, for the unit tests of domain/phone.rs.

    pip install phonenumbers==9.0.33 && scripts/phone-vectors.py
"""
import json, os

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat as F, PhoneNumberType as T

REGIONS = ["US", "CA", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "NG", "ZA", "MX", "RU", "CN", "ID",
           "EG", "KE", "SE", "CH", "SG", "AE", "IL", "NZ", "AR", "ES", "IT", "NL", "PL", "TR", "PH"]

accepted, refused = [], []
for region in REGIONS:
    for kind in (T.MOBILE, T.FIXED_LINE):
        number = pn.example_number_for_type(region, kind)
        if number is None or not pn.is_valid_number(number):
            continue
        e164 = pn.format_number(number, F.E164)
        for typed in sorted({e164, pn.format_number(number, F.INTERNATIONAL),
                      pn.format_number(number, F.INTERNATIONAL).replace(" ", "-"),
                      f"  {e164}  "}):
            accepted.append({"typed": typed, "e164": e164, "calling_code": number.country_code,
                             "region": region})
        national = pn.format_number(number, F.NATIONAL)
        if not national.startswith("+"):
            refused.append({"typed": national, "why": "not_international", "region": region})
        # One digit fewer: phonenumbers calls it invalid (kept only when it does).
        short = pn.parse(e164[:-1])
        if not pn.is_valid_number(short):
            refused.append({"typed": e164[:-1], "why": "invalid", "region": region})
    for kind in (T.PREMIUM_RATE, T.SHARED_COST):
        number = pn.example_number_for_type(region, kind)
        if number is not None and pn.is_valid_number(number) and pn.number_type(number) == kind:
            refused.append({"typed": pn.format_number(number, F.E164), "why": "not_for_sms",
                            "region": region})

codes = sorted(pn.COUNTRY_CODE_TO_REGION_CODE.keys())
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "portcullis", "src",
                   "domain", "phone", "vectors.json")
with open(out, "w") as f:
    json.dump({"made_by": f"phonenumbers {pn.__version__} (scripts/phone-vectors.py)",
               "accepted": accepted, "refused": refused, "calling_codes": codes}, f, indent=1)
    f.write("\n")
print(f"wrote {len(accepted)} accepted, {len(refused)} refused, {len(codes)} calling codes")
