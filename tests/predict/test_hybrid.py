"""``hybrid``: the heuristic's edit when it has one (the model is not asked), else the model's."""

from nextedit.io.inputs import read_examples
from nextedit.predict.base import EditPrediction
from nextedit.predict.hybrid import HybridProvider
from nextedit.predict.request_from_example import request_from_example
from nextedit.predict.stage import PredictStage


class RecordingModel:
    """Stands in for a model provider: answers a fixed edit and records its calls."""

    name = "fake-model"
    format = object()

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def predict_request(self, request, *, cancel=None, cache_key=None):  # noqa: ANN001, ANN201
        self.calls.append({"cache_key": cache_key})
        return EditPrediction(output="MODEL", editable_range=(0, 0), stats={"forward_passes": 1})

    def complete(self, prompt, max_tokens, stop, cancel, cache_key):  # noqa: ANN001, ANN201
        self.calls.append({"prompt": prompt, "cache_key": cache_key})
        return "raw", {}


def _request(spec_case_dir, *, with_history: bool = True):  # noqa: ANN001, ANN202
    (ex,) = read_examples([spec_case_dir])
    req = request_from_example(ex)
    if not with_history:
        req.events = []
    return req


def test_heuristic_edit_wins_and_the_model_is_not_asked(spec_case_dir) -> None:  # noqa: ANN001
    model = RecordingModel()
    hybrid = HybridProvider(model)
    req = _request(spec_case_dir)  # a rename the heuristic propagates
    pred = hybrid.predict_request(req, cache_key="client-1")
    assert not pred.is_no_edit(req.cursor_excerpt) and "quantity <= 0" in pred.output
    assert pred.stats["answered_by"] == "heuristic"
    assert model.calls == []


def test_model_answers_when_the_heuristic_has_no_edit(spec_case_dir) -> None:  # noqa: ANN001
    model = RecordingModel()
    hybrid = HybridProvider(model)
    req = _request(spec_case_dir, with_history=False)  # no edit event: nothing to propagate
    pred = hybrid.predict_request(req, cache_key="client-1")
    assert pred.output == "MODEL" and pred.stats["answered_by"] == "fake-model"
    assert model.calls == [{"cache_key": "client-1"}]  # the per-client prefix cache still applies
    assert hybrid.complete("a raw prompt", 8, [], None, "c") == ("raw", {})  # raw prompts: model only


def test_hybrid_runs_as_a_pipeline_provider(spec_case_dir) -> None:  # noqa: ANN001
    stage = PredictStage(HybridProvider(RecordingModel()))
    (ex,) = list(stage.run(read_examples([spec_case_dir])))
    assert ex.predictions[0].provider == "hybrid:fake-model"
    assert "quantity <= 0" in ex.predictions[0].actual_patch


def test_hybrid_specs_build_the_shipped_model_behind_the_heuristic() -> None:
    from nextedit.paths import SHIPPED_MODEL_DIR as shipped
    from nextedit.predict.registry import get_provider
    from nextedit.server.config import ServedModel
    from nextedit.server.predictor import Predictor

    provider = get_provider(f"hybrid:{shipped}")
    assert isinstance(provider, HybridProvider) and provider.name == "hybrid:local:nextedit-tiny"
    assert provider.format.name == "zeta2_1"
    served = Predictor(ServedModel(name="h", provider=f"hybrid:{shipped}"))
    assert served.kind == "model"  # prompts, per-client cache keys and stage timings as for a model
