"""``hybrid``: the heuristic's edit when it has one (the model is not asked), else the model's."""

from nextedit.context.example_request import example_request
from nextedit.io.inputs import read_examples
from nextedit.predict.heuristic import HeuristicProvider
from nextedit.predict.hybrid import HybridProvider
from nextedit.predict.stage import PredictStage
from nextedit.schema.completion import Completion
from nextedit.schema.prediction import EditPrediction
from nextedit.schema.provider import Provider


class RecordingModel(Provider):
    """Stands in for a model provider: answers a fixed edit and records its calls."""

    name = "fake-model"

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def predict(self, request, *, cancel=None, cache_key=None):  # noqa: ANN001, ANN201
        self.calls.append({"cache_key": cache_key})
        return EditPrediction(output="MODEL", editable_range=(0, 0), completion=Completion("MODEL"))


def _request(spec_case_dir, *, with_history: bool = True):  # noqa: ANN001, ANN202
    (ex,) = read_examples([spec_case_dir])
    req = example_request(ex)
    if not with_history:
        req.events = []
    return req


def test_heuristic_edit_wins_and_the_model_is_not_asked(spec_case_dir) -> None:  # noqa: ANN001
    model = RecordingModel()
    hybrid = HybridProvider(HeuristicProvider(), model)
    req = _request(spec_case_dir)  # a rename the heuristic propagates
    pred = hybrid.predict(req, cache_key="client-1")
    assert not pred.is_no_edit(req.cursor_excerpt) and "quantity <= 0" in pred.output
    assert pred.stats["answered_by"] == "heuristic"
    assert model.calls == []


def test_model_answers_when_the_heuristic_has_no_edit(spec_case_dir) -> None:  # noqa: ANN001
    model = RecordingModel()
    hybrid = HybridProvider(HeuristicProvider(), model)
    req = _request(spec_case_dir, with_history=False)  # no edit event: nothing to propagate
    pred = hybrid.predict(req, cache_key="client-1")
    assert pred.output == "MODEL" and pred.stats["answered_by"] == "fake-model"
    assert model.calls == [{"cache_key": "client-1"}]  # the per-client prefix cache still applies


def test_hybrid_runs_as_a_pipeline_provider(spec_case_dir) -> None:  # noqa: ANN001
    stage = PredictStage(HybridProvider(HeuristicProvider(), RecordingModel()))
    (ex,) = list(stage.run(read_examples([spec_case_dir])))
    assert ex.predictions[0].provider == "hybrid:fake-model"
    assert "quantity <= 0" in ex.predictions[0].actual_patch


def test_hybrid_specs_build_the_shipped_model_behind_the_heuristic() -> None:
    """``hybrid:PATH`` is configuration: for the CLI a heuristic-then-model provider, for the
    server the same two providers, the model's text model completing raw prompts."""
    from nextedit.paths import SHIPPED_MODEL_DIR as shipped
    from nextedit.predict.local import LocalModel
    from nextedit.predict.model_provider import ModelProvider
    from nextedit.predict.registry import get_provider
    from nextedit.server.config import ServedModel
    from nextedit.server.predictor import Predictor

    provider = get_provider(f"hybrid:{shipped}")
    assert isinstance(provider, HybridProvider) and provider.name == "hybrid:local:nextedit-tiny"
    assert isinstance(provider.first, HeuristicProvider) and isinstance(provider.model, ModelProvider)
    assert provider.model.format.name == "zeta2_1"
    for spec in (ServedModel(name="h", provider=f"hybrid:{shipped}"),
                 ServedModel(name="h", provider=f"local:{shipped}", first="heuristic")):  # fmt: skip
        served = Predictor(spec)
        assert served.kind == "model" and isinstance(served.model, LocalModel)
        assert isinstance(served.first, HeuristicProvider) and served.provider.name == "local:nextedit-tiny"
