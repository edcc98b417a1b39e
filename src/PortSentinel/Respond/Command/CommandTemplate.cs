using System.Text;

namespace PortSentinel.Respond.Command;

/// <summary>
/// A command line with placeholders, split into arguments the way a shell would split words
/// (blanks separate; '…' and "…" quote) but never run through a shell: placeholders are filled
/// in after splitting, so a value can never become a second argument or a second command.
/// </summary>
public static class CommandTemplate
{
    /// <summary>The words of <paramref name="template"/>, or null when a quote is not closed.</summary>
    public static IReadOnlyList<string>? Split(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in template)
        {
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (quote != '\0')
        {
            return null;
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }

    /// <summary>The words with each placeholder (e.g. <c>$TARGET$</c>) replaced by its value.</summary>
    public static IReadOnlyList<string> Fill(IReadOnlyList<string> words, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(values);
        return [.. words.Select(w => values.Aggregate(w, (text, v) => text.Replace(v.Key, v.Value, StringComparison.Ordinal)))];
    }
}
