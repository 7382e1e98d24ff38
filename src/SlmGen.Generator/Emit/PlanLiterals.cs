using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Emit;

/// <summary>
/// The plan's records (src/SlmGen.Contract) as C# expressions with named arguments: the generated model declares
/// its plan with them, and its constructor builds its layers from that plan.
/// </summary>
internal static class PlanLiterals
{
    private const string Contract = "global::SlmGen";

    /// <summary>Stacks of varying blocks longer than this print their shapes as four tables, not a constructor call per block.</summary>
    public const int ListedShapes = 32;

    /// <summary>The name of the static member that holds a stack's step (the constructor reads it).</summary>
    public static string StackMember(StackStep stack) => stack.Field + "Plan";

    /// <summary>One step as an expression (a stack: a reference to its own member, printed by <see cref="Stack"/>).</summary>
    /// <param name="named">Named arguments (readable); positional for long plans, whose generated code the compiler parses on every build.</param>
    public static string Step(PlanStep step, bool named = true) => step is StackStep s ? StackMember(s) : Expression(step, named);

    /// <summary>Plans longer than this print their steps with positional arguments.</summary>
    public const int NamedSteps = 64;

    /// <summary>
    /// A contract record as a constructor call with named arguments, nested records likewise, init-only properties
    /// that differ from their default in an initialiser. Read by reflection over the shared records' primary
    /// constructors, so that a setting added to a contract record reaches the generated code with no change here.
    /// </summary>
    public static string Expression(object? value, bool named = true) => value switch
    {
        null => "null",
        string text => S(text),
        bool flag => B(flag),
        int number => L(number),
        long number => L(number),
        double number => D(number),
        Enum e => $"{Contract}.{e.GetType().Name}.{e}",
        _ => Record(value, named),
    };

    private static string Record(object value, bool named)
    {
        var type = value.GetType();
        var parameters = Shape(type).Parameters;
        var args = string.Join(", ", parameters.Select(p => (named ? p.Name + ": " : string.Empty) + Expression(p.GetValue(value), named)));
        return $"new {Contract}.{type.Name}({args})" + Initializer(value);
    }

    /// <summary>The init-only properties of a record that differ from their default, as an object initialiser (or nothing).</summary>
    private static string Initializer(object value)
    {
        var init = Shape(value.GetType()).InitOnly.Select(p => (p.Name, Value: p.GetValue(value))).Where(x => !Equals(x.Value, Default(x.Value))).ToList();
        return init.Count == 0 ? string.Empty : " { " + string.Join(", ", init.Select(x => $"{x.Name} = {Expression(x.Value)}")) + " }";
    }

    private static object? Default(object? value) => value is null ? null : value.GetType().IsValueType ? Activator.CreateInstance(value.GetType()) : null;

    /// <summary>A record's primary-constructor properties, in order, and its other settable (init-only) properties.</summary>
    private static (IReadOnlyList<PropertyInfo> Parameters, IReadOnlyList<PropertyInfo> InitOnly) Shape(Type type)
    {
        lock (Shapes)
        {
            if (!Shapes.TryGetValue(type, out var shape))
            {
                var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
                var parameters = constructor.GetParameters().Select(p => type.GetProperty(p.Name!)!).ToList();
                var initOnly = type.GetProperties().Where(p => p.SetMethod is { IsPublic: true } && p.DeclaringType == type && !parameters.Contains(p)).ToList();
                shape = (parameters, initOnly);
                Shapes[type] = shape;
            }

            return shape;
        }
    }

    private static readonly Dictionary<Type, (IReadOnlyList<PropertyInfo>, IReadOnlyList<PropertyInfo>)> Shapes = new();

    /// <summary>A stack's step as an initialiser: the block's config one argument a line, the shapes of varying blocks listed or tabled.</summary>
    public static IEnumerable<string> Stack(StackStep s)
    {
        var b = s.Block;
        var end = ")" + Initializer(s) + ";"; // the step's own init-only settings (U-Net skips, ...)
        yield return $"new {Contract}.StackStep(Field: {S(s.Field)}, LayerIndex: {L(s.LayerIndex)}, Blocks: {L(s.Blocks)}, Block: new {Contract}.BlockConfig(";
        var parameters = Shape(typeof(BlockConfig)).Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            yield return $"    {parameters[i].Name}: {Expression(parameters[i].GetValue(b))}{(i == parameters.Count - 1 ? ")" + Initializer(b) + "," : ",")}";
        }

        if (s.IsUniform)
        {
            yield return $"    Shapes: {Contract}.EquatableArray<{Contract}.BlockShape>.Empty{end}";
            yield break;
        }

        if (s.Blocks <= ListedShapes)
        {
            yield return $"    Shapes: new {Contract}.EquatableArray<{Contract}.BlockShape>(new {Contract}.BlockShape[]";
            yield return "    {";
            for (var i = 0; i < s.Blocks; i++)
            {
                var x = s.Shapes[i];
                yield return $"        new(Heads: {L(x.Heads)}, KvHeads: {L(x.KvHeads)}, HeadDim: {L(x.HeadDim)}, FfnHidden: {L(x.FfnHidden)}), // block {i}";
            }

            yield return "    })" + end;
            yield break;
        }

        // A long stack of varying blocks: its shapes as four tables, so that the generated code (and the compiler's
        // work) does not grow by a constructor call per block.
        yield return $"    Shapes: {Contract}.BlockShapes.Table(";
        var columns = new[]
        {
            ("heads", "int", s.Shapes.Select(x => (long)x.Heads)), ("kvHeads", "int", s.Shapes.Select(x => (long)x.KvHeads)),
            ("headDim", "long", s.Shapes.Select(x => x.HeadDim)), ("ffnHidden", "long", s.Shapes.Select(x => x.FfnHidden)),
        };
        for (var c = 0; c < columns.Length; c++)
        {
            var (name, type, values) = columns[c];
            yield return $"        {name}: new {type}[]";
            yield return "        {";
            foreach (var row in values.Select((v, i) => (v, i)).GroupBy(x => x.i / 32))
            {
                yield return "            " + string.Join(", ", row.Select(x => L(x.v))) + ",";
            }

            yield return c == columns.Length - 1 ? "        })" + end : "        },";
        }
    }

    private static string S(string value) => Literals.String(value);

    private static string L(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string B(bool value) => Literals.Bool(value);

    private static string D(double value) => Literals.Double(value);
}
