using System;
using System.Collections.Generic;
using System.Globalization;

namespace StitchMtls.TestGateway;

/// <summary>
/// The options of one subcommand: <c>--name value</c> pairs and bare <c>--flag</c> switches.
/// </summary>
internal sealed class CommandLineOptions
{
    private readonly string _command;
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private CommandLineOptions(string command)
    {
        _command = command;
    }

    /// <summary>Parses <paramref name="arguments"/>, accepting only the option names the command declares.</summary>
    /// <exception cref="GatewayInputException">An option is unknown, repeated or lacks its value.</exception>
    public static CommandLineOptions Parse(
        string command,
        IReadOnlyList<string> arguments,
        IReadOnlyCollection<string> valueOptions,
        IReadOnlyCollection<string>? flagOptions = null)
    {
        var options = new CommandLineOptions(command);
        var valueNames = new HashSet<string>(valueOptions, StringComparer.Ordinal);
        var flagNames = new HashSet<string>(flagOptions ?? Array.Empty<string>(), StringComparer.Ordinal);

        for (int i = 0; i < arguments.Count; i++)
        {
            string argument = arguments[i];
            if (!argument.StartsWith("--", StringComparison.Ordinal))
            {
                throw new GatewayInputException($"{command}: unexpected argument '{argument}'.");
            }

            string name = argument.Substring(2);
            if (flagNames.Contains(name))
            {
                if (!options._flags.Add(name))
                {
                    throw new GatewayInputException($"{command}: option '--{name}' is given more than once.");
                }

                continue;
            }

            if (!valueNames.Contains(name))
            {
                throw new GatewayInputException($"{command}: unknown option '--{name}'.");
            }

            if (i + 1 >= arguments.Count)
            {
                throw new GatewayInputException($"{command}: option '--{name}' needs a value.");
            }

            if (!options._values.TryAdd(name, arguments[++i]))
            {
                throw new GatewayInputException($"{command}: option '--{name}' is given more than once.");
            }
        }

        return options;
    }

    public bool HasFlag(string name) => _flags.Contains(name);

    public string? GetString(string name) => _values.TryGetValue(name, out string? value) ? value : null;

    /// <exception cref="GatewayInputException">The option is missing or empty.</exception>
    public string GetRequiredString(string name)
    {
        string? value = GetString(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new GatewayInputException($"{_command}: option '--{name}' is required.");
        }

        return value;
    }

    /// <exception cref="GatewayInputException">The value is not an integer in [min, max].</exception>
    public int? GetInt32(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        string? text = GetString(name);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)
            || value < min
            || value > max)
        {
            throw new GatewayInputException(
                $"{_command}: option '--{name}' must be an integer from {min} to {max}, not '{text}'.");
        }

        return value;
    }
}
