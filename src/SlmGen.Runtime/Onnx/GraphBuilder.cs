using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace SlmGen.Onnx;

/// <summary>Builds an ONNX graph: nodes with generated output names, initializers added once by name.</summary>
internal sealed class GraphBuilder
{
    private readonly Dictionary<string, Tensor> weights;
    private readonly HashSet<string> initializers = new(StringComparer.Ordinal);
    private int next;
    private int cacheSlots;

    public GraphBuilder(Dictionary<string, Tensor> weights)
    {
        this.weights = weights;
    }

    public GraphProto Graph { get; } = new() { Name = "slmgen" };

    public bool Has(string parameter) => weights.ContainsKey(parameter);

    /// <summary>The artifact's quantised matrices (null: every weight fp32).</summary>
    public Dictionary<string, (Artifacts.QuantizedMatrix Matrix, int Bits)>? Quantized { get; init; }

    /// <summary>The quantised matrices' grid (only the symmetric grid goes into MatMulNBits).</summary>
    public QuantGrid Grid { get; init; }

    /// <summary>The plan's scale group (0 = per row).</summary>
    public int Group { get; init; }

    /// <summary>True once a com.microsoft operator (MatMulNBits) is in the graph.</summary>
    public bool UsedContribOps { get; private set; }

    /// <summary>
    /// x · Wᵀ for a [out, in] parameter: a MatMulNBits node over the artifact's codes where it has them at 4 or 8 bits in
    /// blocks ONNX Runtime takes, else MatMul with the (dequantized) fp32 weight transposed.
    /// </summary>
    public string MatMul(string x, string parameter)
    {
        if (Quantized is null || !Quantized.TryGetValue(parameter, out var q) || !OnnxExport.UsesMatMulNBits(q.Bits, Group, q.Matrix.Codes.shape[1], Grid))
        {
            return Node("MatMul", x, Transposed(parameter));
        }

        UsedContribOps = true;
        long n = q.Matrix.Codes.shape[0], k = q.Matrix.Codes.shape[1];
        var block = Group > 0 ? Group : 32;
        var blocks = (k + block - 1) / block;
        var zero = 1 << (q.Bits - 1);
        var codes = q.Matrix.Codes.data<sbyte>().ToArray();
        var scales = q.Matrix.Scales.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var blob = block * q.Bits / 8;
        var packed = new byte[n * blocks * blob];
        var blockScales = new float[n * blocks];
        for (long row = 0; row < n; row++)
        {
            for (long b = 0; b < blocks; b++)
            {
                blockScales[(row * blocks) + b] = Group > 0 ? scales[(row * blocks) + b] : scales[row];
                for (long j = 0; j < block; j++)
                {
                    var column = (b * block) + j;
                    var u = (column < k ? codes[(row * k) + column] : 0) + zero; // padding columns hold the zero point: value 0
                    var at = (row * blocks * blob) + (b * blob);
                    if (q.Bits == 8)
                    {
                        packed[at + j] = (byte)u;
                    }
                    else
                    {
                        packed[at + (j / 2)] |= (byte)(j % 2 == 0 ? u : u << 4);
                    }
                }
            }
        }

        var bName = parameter + $".q{q.Bits}";
        if (initializers.Add(bName))
        {
            var t = new TensorProto { Name = bName, DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(packed) };
            t.Dims.AddRange(new[] { n, blocks, (long)blob });
            Graph.Initializer.Add(t);
            var sc = new TensorProto { Name = parameter + ".block_scales", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(blockScales.AsSpan()).ToArray()) };
            sc.Dims.Add(n * blocks);
            Graph.Initializer.Add(sc);
        }

        var node = Nodes("MatMulNBits", new[] { x, bName, parameter + ".block_scales" }, 1, ("K", k), ("N", n), ("bits", (long)q.Bits), ("block_size", (long)block));
        Graph.Node[^1].Domain = "com.microsoft";
        return node[0];
    }

    /// <summary>The next attention application's KV cache slot (decode graphs).</summary>
    public int NextCacheSlot() => cacheSlots++;

    /// <summary>A parameter's effective weight.</summary>
    public Tensor Tensor(string parameter) => weights[parameter];

    public string Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        Graph.Input.Add(Value(name, type, dims));
        return name;
    }

    public void Output(string value, string name, params object[] dims)
    {
        var last = Graph.Node.Last(n => n.Output.Contains(value));
        last.Output[last.Output.IndexOf(value)] = name;
        Graph.Output.Add(Value(name, TensorProto.Types.DataType.Float, dims));
    }

    /// <summary>A parameter as an fp32 initializer.</summary>
    public string Weight(string parameter) => Constant(parameter, weights[parameter]);

    /// <summary>
    /// <c>x · parameterᵀ</c> for a parameter the graph also reads elsewhere (the tied head's embedding): a Transpose node
    /// over the one initializer (ONNX Runtime folds it at load), not a second, transposed copy in the file — or
    /// <see cref="MatMul"/>'s MatMulNBits when the parameter is quantised.
    /// </summary>
    public string MatMulShared(string x, string parameter) =>
        Quantized is not null && Quantized.ContainsKey(parameter)
            ? MatMul(x, parameter)
            : Node("MatMul", x, Node("Transpose", Weight(parameter)));

    /// <summary>A 2-D parameter transposed ([out, in] → [in, out], the MatMul operand).</summary>
    public string Transposed(string parameter) => Constant(parameter + ".T", weights[parameter].t().contiguous());

    /// <summary>A tensor as an initializer (once per name).</summary>
    public string Constant(string name, Tensor value)
    {
        if (initializers.Add(name))
        {
            using var cpu = value.detach().to(ScalarType.Float32).cpu().contiguous();
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(cpu.bytes) };
            t.Dims.AddRange(cpu.shape);
            Graph.Initializer.Add(t);
        }

        return name;
    }

    /// <summary>An int64 vector initializer.</summary>
    public string Ints(string name, params long[] values)
    {
        name = $"{name}=[{string.Join(",", values)}]"; // named by its values too: two vectors never share a name
        if (initializers.Add(name))
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(values.Length);
            t.Int64Data.AddRange(values);
            Graph.Initializer.Add(t);
        }

        return name;
    }

    /// <summary>An int64 scalar initializer.</summary>
    public string Scalar(string name, long value)
    {
        name = $"{name}={value}";
        if (initializers.Add(name))
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Int64Data.Add(value);
            Graph.Initializer.Add(t);
        }

        return name;
    }

    /// <summary>A boolean initializer of the given shape.</summary>
    public string Bools(string name, bool[] values, params long[] shape)
    {
        if (initializers.Add(name))
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Bool };
            t.Dims.AddRange(shape);
            t.Int32Data.AddRange(values.Select(v => v ? 1 : 0));
            Graph.Initializer.Add(t);
        }

        return name;
    }

    /// <summary>An fp32 scalar initializer.</summary>
    public string Float(string name, float value)
    {
        name = $"{name}={value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
        if (initializers.Add(name))
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.FloatData.Add(value);
            Graph.Initializer.Add(t);
        }

        return name;
    }

    public string Node(string op, params string[] inputs) => Nodes(op, inputs, 1)[0];

    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes) => Nodes(op, inputs, 1, attributes)[0];

    public string[] Nodes(string op, string[] inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{next}" };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(i => $"{op.ToLowerInvariant()}_{next}_{i}").ToArray();
        next++;
        node.Output.AddRange(names);
        foreach (var (name, value) in attributes)
        {
            node.Attribute.Add(value switch
            {
                long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
                float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
                long[] ls => Ints(name, ls),
                _ => throw new ArgumentException($"attribute {name}: {value.GetType().Name}"),
            });
        }

        Graph.Node.Add(node);
        return names;

        static AttributeProto Ints(string name, long[] values)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(values);
            return a;
        }
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                _ => throw new ArgumentException($"dimension {d}"),
            });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
