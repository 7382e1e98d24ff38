using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen;

/// <summary>
/// Scalars held for as long as libtorch reads them.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns every number it passes to libtorch into a native <see cref="Scalar"/> whose only owner is
/// the garbage collector: <c>x * 0.5</c>, <c>x.mul_(beta)</c>, <c>x.clamp_(max: 1.0)</c>, and <c>a + b</c> and
/// <c>a.add_(b)</c>, whose alpha is an implicit 1. Once the JIT has optimised the calling method, nothing holds that
/// object after its handle is read, so a collection that another thread starts while libtorch is still in the call can
/// finalise it and free the value before it is read: a crash (<c>Expected false to be true</c> from
/// <c>c10::Scalar::toFloat</c>, or <c>Unknown scalar type</c>) or a wrong number read in silence. Tensors made inside a
/// dispose scope are held by the scope; scalars are not (and a temporary tensor made outside any scope has the same race:
/// the runtime's entry points open a scope for theirs, docs/backends.md). So the runtime and the code the generator writes never let a
/// conversion make a scalar: constants are fields like <see cref="One"/>, and a value computed per call is made with
/// <c>ToScalar()</c> in a <c>using</c> that outlives the call (the extension methods below, public so that code written
/// around a generated model can do the same). A test compiles the runtime and the generated models and fails on any
/// implicit conversion to <see cref="Scalar"/> and any call of a TorchSharp member whose IL makes a scalar it does not
/// dispose (the arithmetic operators with a number, <c>add</c>/<c>add_</c> without alpha, <c>square()</c>, …).
/// </remarks>
public static class HeldScalars
{
    /// <summary>1 (an int, as TorchSharp's own alpha): <c>a.add(b, One)</c> is <c>a + b</c>.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary><c>a + b</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><c>a += b</c> in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary><c>x + value</c>.</summary>
    public static Tensor Plus(this Tensor x, double value)
    {
        using var s = value.ToScalar();
        return x.add(s, One);
    }

    /// <summary><c>x + value</c> for an integer value (an integer scalar, as TorchSharp's operator makes).</summary>
    public static Tensor Plus(this Tensor x, long value)
    {
        using var s = value.ToScalar();
        return x.add(s, One);
    }

    /// <summary><c>arange(stop)</c>: 0, 1, …, stop − 1 (int64 unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor Arange(long stop, Device? device = null, ScalarType? dtype = null) => Arange(0, stop, 1, device, dtype);

    /// <summary><c>arange(start, stop, step)</c> (int64 unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor Arange(long start, long stop, long step, Device? device = null, ScalarType? dtype = null)
    {
        using var a = start.ToScalar();
        using var b = stop.ToScalar();
        using var c = step.ToScalar();
        return arange(a, b, c, dtype: dtype, device: device);
    }

    /// <summary><c>x ≥ value</c>.</summary>
    public static Tensor IsAtLeast(this Tensor x, long value)
    {
        using var s = value.ToScalar();
        return x.ge(s);
    }

    /// <summary><c>x == value</c>.</summary>
    public static Tensor EqualTo(this Tensor x, double value)
    {
        using var s = value.ToScalar();
        return x.eq(s);
    }

    /// <summary><c>x != value</c>.</summary>
    public static Tensor NotEqualTo(this Tensor x, double value)
    {
        using var s = value.ToScalar();
        return x.ne(s);
    }

    /// <summary><c>x.masked_fill(mask, value)</c>.</summary>
    public static Tensor FillWhere(this Tensor x, Tensor mask, double value)
    {
        using var s = value.ToScalar();
        return x.masked_fill(mask, s);
    }

    /// <summary><c>x²</c> (what TorchSharp's <c>square()</c> computes, as <c>pow(2)</c>).</summary>
    public static Tensor Squared(this Tensor x)
    {
        using var two = 2.ToScalar();
        return x.pow(two);
    }

    /// <summary><c>leaky_relu(x, slope)</c>.</summary>
    public static Tensor LeakyRelu(this Tensor x, double slope)
    {
        using var s = slope.ToScalar();
        return x.leaky_relu(s);
    }

    /// <summary><c>x · factor</c>.</summary>
    public static Tensor Times(this Tensor x, double factor)
    {
        using var s = factor.ToScalar();
        return x.mul(s);
    }

    /// <summary><c>x · factor</c> for an integer factor (an integer scalar, as TorchSharp's operator makes).</summary>
    public static Tensor Times(this Tensor x, long factor)
    {
        using var s = factor.ToScalar();
        return x.mul(s);
    }

    /// <summary><c>x.masked_fill_(mask, value)</c> in place.</summary>
    public static Tensor FillWhereInPlace(this Tensor x, Tensor mask, double value)
    {
        using var s = value.ToScalar();
        return x.masked_fill_(mask, s);
    }

    /// <summary><c>x.clamp(min, max)</c> for integer bounds (integer scalars).</summary>
    public static Tensor ClampBetween(this Tensor x, long min, long max)
    {
        using var lo = min.ToScalar();
        using var hi = max.ToScalar();
        return x.clamp(lo, hi);
    }

    /// <summary><c>x.clamp_min(min)</c>.</summary>
    public static Tensor ClampMin(this Tensor x, double min)
    {
        using var s = min.ToScalar();
        return x.clamp_min(s);
    }

    /// <summary><c>x += value</c> in place.</summary>
    public static Tensor PlusInPlace(this Tensor x, double value)
    {
        using var s = value.ToScalar();
        return x.add_(s, One);
    }

    /// <summary><c>x · factor</c> in place.</summary>
    public static Tensor TimesInPlace(this Tensor x, double factor)
    {
        using var s = factor.ToScalar();
        return x.mul_(s);
    }

    /// <summary><c>x / divisor</c>.</summary>
    public static Tensor Over(this Tensor x, double divisor)
    {
        using var s = divisor.ToScalar();
        return x.div(s);
    }

    /// <summary><c>numerator / x</c>, as TorchSharp computes it (the reciprocal times the number).</summary>
    public static Tensor InverseTimes(this Tensor x, double numerator)
    {
        using var reciprocal = x.reciprocal();
        using var s = numerator.ToScalar();
        return reciprocal.mul(s);
    }
}
