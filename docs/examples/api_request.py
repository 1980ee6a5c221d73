"""The API contract module on its own: build a request, validate it, see the body the create call sends.

``tests/docs/test_api_request.py`` runs this file: its asserts hold and it prints what the comment says.
"""

from __future__ import annotations

# [START howto_api_request]
from airflow_provider_wan.api import VideoRequest

request = VideoRequest(
    model="wan2.7-t2v", prompt="A fox detective in the rain", resolution="720P", ratio="16:9", duration=10
)
assert request.validate() == []  # the warnings; a value the contract rules out raises
assert request.to_body() == {  # the exact JSON body of the create call
    "model": "wan2.7-t2v",
    "input": {"prompt": "A fox detective in the rain"},
    "parameters": {"resolution": "720P", "ratio": "16:9", "duration": 10},
}

try:
    VideoRequest(model="wan2.7-t2v", prompt="A fox detective in the rain", duration=20).validate()
except ValueError as error:  # WanValidationError: nothing was sent
    print(error)  # Invalid duration=20: a whole number of seconds from 2 to 15 for wan2.7-t2v
# [END howto_api_request]
