using System;
using System.Linq;

namespace SlmGen.Generator.Tests;

/// <summary>The generator reads attribute enums as numbers: its mirrors must match the runtime's enums.</summary>
public class EnumMirrorTests
{
    [Theory]
    [InlineData(typeof(SlmGen.PositionKind), typeof(Model.PositionKind))]
    [InlineData(typeof(SlmGen.Act), typeof(Model.Act))]
    [InlineData(typeof(SlmGen.NormKind), typeof(Model.NormKind))]
    [InlineData(typeof(SlmGen.InitScheme), typeof(Model.InitScheme))]
    public void Generator_enum_matches_the_runtime_enum(Type runtime, Type generator)
    {
        var expected = Enum.GetNames(runtime).Select(n => (n, Convert.ToInt32(Enum.Parse(runtime, n)))).OrderBy(x => x.Item2);
        var actual = Enum.GetNames(generator).Select(n => (n, Convert.ToInt32(Enum.Parse(generator, n)))).OrderBy(x => x.Item2);
        Assert.Equal(expected, actual);
    }
}
