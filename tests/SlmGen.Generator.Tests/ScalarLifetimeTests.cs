using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// Neither the runtime nor the code the generator writes hands TorchSharp a scalar that nothing holds during the call
/// (SlmGen.HeldScalars says why that crashes a training run, or reads a wrong number, when a collection runs at the
/// wrong moment). Checked on the sources: no implicit conversion to <c>Scalar</c>, and no call of a TorchSharp member
/// that makes one inside and does not dispose it — the set read from TorchSharp's own IL, so an operator, an
/// <c>add</c> without alpha or a new member that does it is found without a list written here.
/// </summary>
public class ScalarLifetimeTests
{
    private static readonly Lazy<HashSet<string>> Makers = new(ScalarMakers);

    [Fact]
    public void TorchSharp_members_that_make_an_unheld_scalar_are_found_in_its_IL()
    {
        var makers = Makers.Value;
        // The ones the fix is about: a + b (alpha 1), x * 0.5, x.add_(y); and members that hold theirs are not listed.
        Assert.Contains("TorchSharp.torch.Tensor.op_Addition(Tensor,Tensor)", makers);
        Assert.Contains("TorchSharp.torch.Tensor.op_Multiply(Tensor,Double)", makers);
        Assert.Contains("TorchSharp.torch.Tensor.add_(Tensor)", makers);
        Assert.DoesNotContain("TorchSharp.torch.Tensor.add(Tensor,Scalar)", makers);
        Assert.DoesNotContain("TorchSharp.torch.Tensor.op_Subtraction(Tensor,Tensor)", makers);
    }

    public static TheoryData<string> SourceFolders() => new(new[] { "src/SlmGen.Runtime", "src/SlmGen.Cli", "src/SlmGen.Inference" }
        .Concat(Directory.EnumerateDirectories(Repo.Path("samples")).Select(d => "samples/" + Path.GetFileName(d)))
        .Where(d => Directory.Exists(Repo.Path(d.Split('/')))).Order());

    /// <summary>The runtime, the CLI and the samples (each compiled from its sources against what the test host loaded).</summary>
    [Theory]
    [MemberData(nameof(SourceFolders))]
    public void Hand_written_code_never_lets_TorchSharp_make_a_scalar_it_does_not_hold(string folder)
    {
        var root = Repo.Path(folder.Split('/'));
        var sources = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                        && !p.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToList();
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            "Sources",
            sources.Select(p => CSharpSyntaxTree.ParseText(File.ReadAllText(p), parse, p)),
            Dependencies(withRuntime: folder != "src/SlmGen.Runtime"),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

        var (findings, torchCalls) = Scan(compilation, compilation.SyntaxTrees);
        if (folder == "src/SlmGen.Runtime")
        {
            // The scan saw the runtime's tensor code (it would pass vacuously on sources that did not bind).
            Assert.True(sources.Count > 50 && torchCalls > 1000, $"{sources.Count} sources, {torchCalls} TorchSharp calls bound in the runtime");
        }

        Assert.True(findings.Count == 0, "scalars nothing holds during the call:\n" + string.Join("\n", findings));
    }

    public static TheoryData<string> Specs() => new(Directory.EnumerateFiles(Repo.Path("specs"), "*.yaml", SearchOption.AllDirectories)
        .Select(p => Path.GetRelativePath(Repo.Root, p).Replace('\\', '/')).Order());

    [Theory]
    [MemberData(nameof(Specs))]
    public void Generated_models_never_let_TorchSharp_make_a_scalar_they_do_not_hold(string spec)
    {
        var path = Repo.Path(spec.Split('/'));
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { (path, File.ReadAllText(path)) });
        var generated = run.Output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) && !t.FilePath.EndsWith("Catalog.g.cs", StringComparison.Ordinal)).ToList();
        if (generated.Count == 0)
        {
            return; // a spec that is refused by design (its diagnostics are other tests' business)
        }

        var (findings, torchCalls) = Scan(run.Output, generated);
        Assert.True(torchCalls > 0, $"{spec}: no TorchSharp call bound in the generated code");
        Assert.True(findings.Count == 0, $"{spec}: scalars nothing holds during the call:\n" + string.Join("\n", findings));
    }

    [Fact]
    public void Generated_models_of_every_emitted_form_hold_their_scalars()
    {
        // Learned and sinusoidal positions, hashed bigrams, U-Net skips: each branch of the emitter that adds tensors.
        const string Declared = """
            using SlmGen;
            namespace Acme.TorchSharp;
            [Model(Vocab = 65, Context = 16)]
            [TokenEmbedding(Dim = 16)]
            [Positions(PositionKind.Learned)]
            [TransformerBlocks(Layers = 2, Heads = 2)]
            [LMHead(TiedToEmbedding = true)]
            public partial class Learned { }
            """;
        const string Yaml = """
            name: Skips
            vocab: 65
            context: 16
            embedding: { dim: 16, bigram_buckets: 61, bigram_dim: 8 }
            positions: sinusoidal
            layers:
              - transformer: { layers: 4, heads: 2, ffn: 32, unet_skips: true }
            final_norm: rmsnorm
            head: tied
            """;
        var run = GeneratorRun.Of(new[] { ("/0/Learned.cs", Declared) }, new[] { ("/0/skips.yaml", Yaml) });
        Assert.Empty(run.CompileErrors);
        var generated = run.Output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToList();
        var text = string.Join("\n", generated.Select(t => t.ToString()));
        Assert.Contains("PositionIds.Of", text, StringComparison.Ordinal);
        Assert.Contains("skips.Pop()", text, StringComparison.Ordinal);
        Assert.Contains(".Embed(idx", text, StringComparison.Ordinal);
        Assert.Contains("At(x, base.StartPosition)", text, StringComparison.Ordinal);
        var (findings, _) = Scan(run.Output, generated);
        Assert.True(findings.Count == 0, "scalars nothing holds during the call:\n" + string.Join("\n", findings));
    }

    /// <summary>Each implicit conversion to Scalar and each call of a scalar-making TorchSharp member in <paramref name="trees"/>.</summary>
    private static (List<string> Findings, int TorchCalls) Scan(Compilation compilation, IEnumerable<SyntaxTree> trees)
    {
        var makers = Makers.Value;
        var findings = new List<string>();
        var torchCalls = 0;
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                var operation = model.GetOperation(node);
                if (operation is null || operation.Syntax != node)
                {
                    continue;
                }

                var (method, what) = operation switch
                {
                    IConversionOperation c when c.OperatorMethod is { } m && IsScalar(m.ContainingType) => (m, "implicit conversion to Scalar"),
                    // TorchSharp's Scalar-to-Tensor conversion compiles and always throws ("Should not be called").
                    IConversionOperation c when c.OperatorMethod is { } m && c.Operand.Type is INamedTypeSymbol from && IsScalar(from) => (m, "conversion of a Scalar to a Tensor"),
                    IBinaryOperation b when b.OperatorMethod is { } m => (m, "operator"),
                    ICompoundAssignmentOperation a when a.OperatorMethod is { } m => (m, "operator"),
                    IUnaryOperation u when u.OperatorMethod is { } m => (m, "operator"),
                    IInvocationOperation i => (i.TargetMethod, "call"),
                    IObjectCreationOperation o when o.Constructor is { } m => (m, "constructor"),
                    _ => (null, string.Empty),
                };
                if (method is null || method.ContainingAssembly?.Name != "TorchSharp")
                {
                    continue;
                }

                torchCalls++;
                if (what.StartsWith("conversion", StringComparison.Ordinal) || what == "implicit conversion to Scalar" || makers.Contains(Key(method)))
                {
                    var span = node.GetLocation().GetLineSpan();
                    findings.Add($"{Path.GetRelativePath(Repo.Root, span.Path)}:{span.StartLinePosition.Line + 1}: {what} {Key(method)} in `{Shorten(node.ToString())}`");
                }
            }
        }

        return (findings, torchCalls);
    }

    private static bool IsScalar(INamedTypeSymbol type) => type.ToDisplayString() == "TorchSharp.Scalar";

    private static string Shorten(string code) => code.Length <= 100 ? code : code[..100] + "…";

    /// <summary>Namespace.Type.Member(ParameterTypes) of a Roslyn method, as <see cref="Key(MethodBase)"/> writes a reflected one.</summary>
    private static string Key(IMethodSymbol method)
    {
        var m = method.ReducedFrom ?? method.OriginalDefinition;
        var type = m.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted).WithGenericsOptions(SymbolDisplayGenericsOptions.None));
        var name = m.MethodKind == MethodKind.Constructor ? ".ctor" : m.Name;
        return $"{type}.{name}({string.Join(",", m.Parameters.Select(p => p.Type.MetadataName.Split('`')[0]))})";
    }

    private static string Key(MethodBase method) =>
        $"{method.DeclaringType!.FullName!.Replace('+', '.').Split('`')[0]}.{method.Name}({string.Join(",", method.GetParameters().Select(p => (p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType).Name.Split('`')[0].TrimEnd('&')))})";

    /// <summary>
    /// TorchSharp's public members whose IL makes a Scalar (an implicit conversion or ToScalar) and never disposes one,
    /// directly or through another TorchSharp member that does.
    /// </summary>
    private static HashSet<string> ScalarMakers()
    {
        var assembly = typeof(TorchSharp.torch).Assembly;
        var scalar = typeof(TorchSharp.Scalar);
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types.Where(t => t is not null).ToArray()!;
        }

        var methods = types.SelectMany(t => t.GetMethods(All).Cast<MethodBase>().Concat(t.GetConstructors(All))).ToList();
        var calls = new Dictionary<MethodBase, List<MethodBase>>();
        var makes = new HashSet<MethodBase>();
        foreach (var method in methods)
        {
            var callees = Callees(method);
            calls[method] = callees;
            var creates = callees.Any(c => (c.DeclaringType == scalar && c.Name == "op_Implicit") || (c.Name == "ToScalar" && c is MethodInfo mi && mi.ReturnType == scalar));
            var disposes = callees.Any(c => c.DeclaringType == scalar && c.Name == "Dispose");
            if (creates && !disposes)
            {
                makes.Add(method);
            }
        }

        // Through TorchSharp's own calls: operator +(Tensor, double) → add(Scalar) → add(Scalar, 1).
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var (method, callees) in calls)
            {
                if (!makes.Contains(method) && callees.Any(makes.Contains) && !callees.Any(c => c.DeclaringType == scalar && c.Name == "Dispose"))
                {
                    changed |= makes.Add(method);
                }
            }
        }

        return makes.Where(m => m.Name is not ("op_Implicit" or "ToScalar")).Select(Key).ToHashSet();
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The methods <paramref name="method"/>'s IL calls (call, callvirt, newobj), decoded instruction by instruction.</summary>
    private static List<MethodBase> Callees(MethodBase method)
    {
        var result = new List<MethodBase>();
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or NotSupportedException)
        {
            il = null;
        }

        if (il is null)
        {
            return result;
        }

        for (var i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE && i + 1 < il.Length ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            if (!OpCodesByValue.TryGetValue(value, out var op))
            {
                break; // not IL this decoder knows: stop rather than guess
            }

            var size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, i)),
                _ => 4,
            };
            if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj)
            {
                try
                {
                    if (method.Module.ResolveMethod(BitConverter.ToInt32(il, i), method.DeclaringType?.GetGenericArguments(), method.IsGenericMethod ? method.GetGenericArguments() : null) is { } callee)
                    {
                        result.Add(callee);
                    }
                }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMethodException)
                {
                    // a token into an assembly this process has not loaded: not TorchSharp's Scalar
                }
            }

            i += size;
        }

        return result;
    }

    /// <summary>What the test host loaded (TorchSharp, the runtime's dependencies, the runtime unless its own sources stand in for it).</summary>
    private static IEnumerable<MetadataReference> Dependencies(bool withRuntime)
    {
        _ = typeof(TorchSharp.torch).Assembly;
        _ = typeof(SlmGen.SlmModel).Assembly;
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return trusted.Where(p => Path.GetFileNameWithoutExtension(p) is not ("SlmGen.Generator.Tests" or "SlmGen.Generator") && (withRuntime || Path.GetFileNameWithoutExtension(p) != "SlmGen.Runtime") && !p.Contains("xunit", StringComparison.OrdinalIgnoreCase))
            .Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
    }
}
