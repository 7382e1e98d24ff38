using System.Linq;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// Linears.Apply runs a biased layer on a (…, in) input as one GEMM with the bias in its epilogue (the input seen as
/// rows); it must give nn.Linear's values, shapes and gradients for every rank, stride and kind of layer.
/// </summary>
[HoldTensors]
public class LinearsTests
{
    [Theory]
    [InlineData(true, new long[] { 5, 7, 12 }, false)]
    [InlineData(true, new long[] { 2, 3, 4, 12 }, false)]
    [InlineData(true, new long[] { 7, 5, 12 }, true)] // a transposed (non-contiguous) input
    [InlineData(true, new long[] { 9, 12 }, false)]
    [InlineData(false, new long[] { 5, 7, 12 }, false)]
    public void A_linear_layer_applied_as_rows_equals_nn_linear_in_values_shapes_and_gradients(bool bias, long[] shape, bool transposed)
    {
        manual_seed(3);
        using var layer = nn.Linear(12, 10, hasBias: bias, dtype: ScalarType.Float64);
        var source = randn(shape, dtype: ScalarType.Float64);
        var x1 = (transposed ? source.transpose(0, 1) : source).detach().requires_grad_(true);
        var x2 = x1.detach().clone().requires_grad_(true);
        var weights = randn(x1.shape[..^1].Append(10L).ToArray(), dtype: ScalarType.Float64);

        var expected = layer.call(x1);
        (expected * weights).sum().backward();
        var expectedGrads = new[] { x1.grad!.clone(), layer.weight!.grad!.clone() };
        var expectedBiasGrad = bias ? layer.bias!.grad!.clone() : null;
        layer.zero_grad();

        var actual = Linears.Apply(layer, x2);
        (actual * weights).sum().backward();

        Assert.Equal(expected.shape, actual.shape);
        Assert.True(allclose(expected, actual, rtol: 1e-12, atol: 1e-12), "values");
        Assert.True(allclose(expectedGrads[0], x2.grad!, rtol: 1e-12, atol: 1e-12), "input gradient");
        Assert.True(allclose(expectedGrads[1], layer.weight!.grad!, rtol: 1e-12, atol: 1e-12), "weight gradient");
        if (bias)
        {
            Assert.True(allclose(expectedBiasGrad!, layer.bias!.grad!, rtol: 1e-12, atol: 1e-12), "bias gradient");
        }
    }

    [Fact]
    public void A_quantisation_aware_layer_applies_its_bias_the_same_way_at_every_rank()
    {
        manual_seed(5);
        using var layer = new QuantLinear(16, 6, hasBias: true, bits: 4);
        var x = randn(3, 4, 16);
        var rows = layer.call(x.reshape(-1, 16)).reshape(3, 4, 6);
        Assert.True(allclose(rows, layer.call(x), rtol: 1e-6, atol: 1e-6));
        Assert.Equal(new long[] { 3, 4, 6 }, layer.call(x).shape);
    }
}
