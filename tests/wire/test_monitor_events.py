"""The monitor's payloads as plain values make them (``wire.monitor_events``), against
Voicenter's recording where it has the message, and the SDK's needs where it has not."""

from __future__ import annotations

from agentstatus.wire import monitor_events as wire
from tests.support.monitor import call_keys, sample

NOW = wire.ServerTime(1703759922, 120)


def _call(incoming: bool) -> wire.MonitorCall:
    return wire.MonitorCall("c-1", incoming, "Dialing", "Dana", "0501", "600", 1703759699)


def test_an_outgoing_call_has_the_recorded_outgoing_keys() -> None:
    recorded = sample()["ExtensionEvent_HANGUP"]["data"]["currentCall"]
    shaped = wire.call_json(_call(incoming=False))
    assert set(shaped) == set(recorded)
    assert (shaped["direction"], shaped["callType"], shaped["did"]) == ("Outgoing", "Outgoing", "")
    assert (shaped["callAnswered"], shaped["answered"]) == (0, 0)


def test_an_incoming_call_has_every_recorded_key() -> None:
    every, some = call_keys()
    shaped = wire.call_json(_call(incoming=True))
    assert every <= set(shaped) <= some
    assert shaped["originalCallerID"] == "0501"


def test_keepalive_response_is_always_ok() -> None:
    # The SDK reconnects on any errorCode but 0 (research section 5).
    assert wire.keepalive_response(NOW) == {
        "isOk": True,
        "errorCode": 0,
        "errorDesc": "Ok",
        "serverTime": 1703759922 + 120 * 60,
        "serverTimeOffset": 120,
    }


def test_every_epoch_is_on_the_organisations_clock() -> None:
    # Voicenter's epochs are UTC plus the offset: the SDK takes it off again
    # (callStartedUTC = (callStarted - servertimeoffset * 60) * 1000).
    call = _call(incoming=True)
    shifted = wire.call_json(call, shift_s=NOW.shift_s)
    assert shifted["callStarted"] == call.started_s + 7200 == shifted["calldurationinterval"]
    assert wire.call_json(call)["callAnswered"] == 0  # never answered stays 0
    extension = wire.MonitorExtension(
        7, "sip7", "Desk", 640, 101, "Dana", 1, 1703759000_000, (call,), 1703759100, 0, 0
    )
    event = wire.extension_event(extension, wire.NEWCALL, NOW, call=call, telephony_s=1703759900)
    assert (event["servertime"], event["telephonyservertime"]) == (
        1703759922 + 7200,
        1703759900 + 7200,
    )
    data = event["data"]
    assert data["representativeUpdated"] == 1703759000_000 + 7200_000
    assert (data["lastCallEventEpoch"], data["lastAnsweredCallEventEpoch"]) == (
        1703759100 + 7200,
        0,
    )
    queue = wire.MonitorQueue(1, "q", 640, (wire.MonitorQueueCaller("c", "050", 1703759500),))
    joined = wire.queue_event(queue, wire.JOIN, "c", NOW, 1703759500)
    assert joined["data"]["Calls"][0]["JoinTimeStamp"] == 1703759500 + 7200
    assert joined["telephonyservertime"] == 1703759500 + 7200


def test_login_messages_have_the_recorded_keys() -> None:
    assert wire.login_success(NOW).keys() == sample()["loginSuccess"].keys()
    status = wire.login_status([wire.MonitorQueue(14519, "q", 640)], NOW)
    assert status.keys() == sample()["loginStatus"].keys()
    # Voicenter's UserID is an account user of its own; agentstatus has the organisation.
    recorded = sample()["loginStatus"]["queues"][0] | {"QueueName": "q", "UserID": 640}
    assert status["queues"] == [recorded]


def test_extensions_updated_names_the_numeric_ids_monitored() -> None:
    assert wire.extensions_updated(None) == ""
    assert wire.extensions_updated({12, 3}) == "3,12"
