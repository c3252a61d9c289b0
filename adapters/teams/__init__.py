"""Microsoft Teams (botbuilder 4.17.1). Every botbuilder import of the project stays in this
package, so the end-of-support Bot Framework SDK can be swapped for the Microsoft 365 Agents
SDK without touching bot/. `settings` is light; `adapter` and `sdk` load botbuilder."""
