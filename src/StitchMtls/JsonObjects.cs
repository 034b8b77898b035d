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

    /// <summary>Plain .NET values System.Text.Json serialises: dictionaries, lists and scalars.</summary>
    /// <exception cref="StitchMtlsException"><c>JsonTooDeep</c> for a self-referencing object.</exception>
    public static object? ToPlain(object? value, int depth = 0)
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
                    property => ToPlain(property.Value, depth + 1));
            }

            value = wrapped.BaseObject;
        }

        return value switch
        {
            null => null,
            string or bool or char or Guid => value,
            DateTime time => time.ToString("o", CultureInfo.InvariantCulture),
            DateTimeOffset time => time.ToString("o", CultureInfo.InvariantCulture),
            Enum named => named.ToString(),
            IConvertible number when IsNumber(number) => number,
            IDictionary dictionary => dictionary.Keys.Cast<object>().ToDictionary(
                key => Convert.ToString(key, CultureInfo.InvariantCulture) ?? string.Empty,
                key => ToPlain(dictionary[key], depth + 1)),
            IEnumerable list => list.Cast<object?>().Select(item => ToPlain(item, depth + 1)).ToList(),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        };
    }

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
