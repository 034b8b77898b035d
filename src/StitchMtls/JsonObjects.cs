using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Text.Json;

namespace StitchMtls.Commands;

/// <summary>
/// JSON to PowerShell objects and back, as Invoke-RestMethod does: objects become PSCustomObjects, arrays object
/// arrays; hashtables, PSCustomObjects and lists become JSON objects and arrays.
/// </summary>
internal static class JsonObjects
{
    private const int MaxDepth = 64;

    public static object? ToPowerShell(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ToCustomObject(element),
        JsonValueKind.Array => element.EnumerateArray().Select(ToPowerShell).ToArray(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => ToNumber(element),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary><paramref name="value"/> as JSON text, for a REST body.</summary>
    /// <param name="value">A hashtable, PSCustomObject, list or scalar.</param>
    /// <param name="parameter">The parameter it came from, such as <c>-Body</c>, for error messages.</param>
    /// <exception cref="StitchMtlsException"><c>JsonTooDeep</c>, <c>JsonValueNotSerializable</c>.</exception>
    public static string Serialize(object? value, string parameter)
    {
        object? plain = ToPlain(value, parameter);
        try
        {
            return JsonSerializer.Serialize(plain);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            throw NotSerializable(parameter, ex.Message);
        }
    }

    /// <summary>
    /// Plain .NET values System.Text.Json serialises: dictionaries, lists and scalars. A DateTime is sent in UTC
    /// (a Local or Unspecified one is taken as local time), as ISO 8601 with 'Z', so the API never has to guess
    /// its time zone; a DateTimeOffset keeps its offset.
    /// </summary>
    /// <param name="value">The value to convert.</param>
    /// <param name="path">Where the value is, such as <c>-Body.payer.name</c>, for error messages.</param>
    /// <param name="depth">How deep the value is nested.</param>
    /// <exception cref="StitchMtlsException">
    /// <c>JsonTooDeep</c> for a self-referencing object; <c>JsonValueNotSerializable</c> for NaN or infinity.
    /// </exception>
    public static object? ToPlain(object? value, string path, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            throw new StitchMtlsException("JsonTooDeep", FailureCategory.InvalidArgument, $"The value is nested " +
                $"more than {MaxDepth} levels deep (or refers to itself) and cannot be sent as JSON.");
        }

        if (value is PSObject wrapped)
        {
            if (wrapped.BaseObject is PSCustomObject)
            {
                return wrapped.Properties.ToDictionary(property => property.Name,
                    property => ToPlain(property.Value, $"{path}.{property.Name}", depth + 1));
            }

            value = wrapped.BaseObject;
        }

        return value switch
        {
            null => null,
            string or bool or char or Guid => value,
            double number when !double.IsFinite(number) => throw NotFinite(path, number.ToString(
                CultureInfo.InvariantCulture)),
            float number when !float.IsFinite(number) => throw NotFinite(path, number.ToString(
                CultureInfo.InvariantCulture)),
            DateTime time => time.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
            DateTimeOffset time => time.ToString("o", CultureInfo.InvariantCulture),
            Enum named => named.ToString(),
            IConvertible number when IsNumber(number) => number,
            IDictionary dictionary => dictionary.Keys.Cast<object>().ToDictionary(
                key => Convert.ToString(key, CultureInfo.InvariantCulture) ?? string.Empty,
                key => ToPlain(dictionary[key], $"{path}.{key}", depth + 1)),
            IEnumerable list => list.Cast<object?>().Select((item, index) => ToPlain(item, $"{path}[{index}]",
                depth + 1)).ToList(),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        };
    }

    private static StitchMtlsException NotFinite(string path, string text) => new("JsonValueNotSerializable",
        FailureCategory.InvalidArgument, $"The value of '{path}' is {text}, which JSON cannot represent. Send a " +
        "finite number, or $null.", path);

    private static StitchMtlsException NotSerializable(string parameter, string reason) => new(
        "JsonValueNotSerializable", FailureCategory.InvalidArgument, $"{parameter} cannot be sent as JSON: {reason} " +
        "Give hashtables, PSCustomObjects, lists, strings, finite numbers, booleans, dates and $null.", parameter);

    private static PSObject ToCustomObject(JsonElement element)
    {
        var result = new PSObject();
        foreach (JsonProperty property in element.EnumerateObject())
        {
            result.Properties.Add(new PSNoteProperty(property.Name, ToPowerShell(property.Value)));
        }

        return result;
    }

    private static object ToNumber(JsonElement element)
    {
        if (element.TryGetInt32(out int small))
        {
            return small;
        }

        if (element.TryGetInt64(out long large))
        {
            return large;
        }

        // Money amounts keep their digits as decimal; only what decimal cannot hold becomes double.
        return element.TryGetDecimal(out decimal exact) ? exact : element.GetDouble();
    }

    private static bool IsNumber(IConvertible value) => value.GetTypeCode() is TypeCode.Byte or TypeCode.SByte
        or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64
        or TypeCode.UInt64 or TypeCode.Single or TypeCode.Double or TypeCode.Decimal;
}
