// The study's models are declared once, in YAML (specs/study/); the tests use them under the names their attribute
// forms had (tests/SlmGen.Generator.Tests/Inputs/StudyModels.cs.txt, the same architectures).
global using LinearPredictor = SlmGen.Samples.CharLinear;
global using MlpPredictor = SlmGen.Samples.CharMlp;
global using SingleAttention = SlmGen.Samples.CharAttention;
global using ThreeLayerTransformer = SlmGen.Samples.CharTransformer;
