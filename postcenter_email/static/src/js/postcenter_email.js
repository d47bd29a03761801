odoo.define('postcenter_email.backend', function (require) {
"use strict";

var core = require('web.core');
var basicFields = require('web.basic_fields');
var fieldRegistry = require('web.field_registry');
var ListController = require('web.ListController');
var ListView = require('web.ListView');
var viewRegistry = require('web.view_registry');

var _t = core._t;

/**
 * A read-only address with a "Copy" button (the forwarding address).
 */
var CopyField = basicFields.FieldChar.extend({
    _renderReadonly: function () {
        var self = this;
        this._destroyClipboard();
        this.$el.empty();
        if (!this.value) {
            return;
        }
        var $value = $('<span class="o_postcenter_copy_value"/>').text(this.value);
        var $button = $('<button type="button" class="btn btn-sm btn-default o_postcenter_copy_button"/>')
            .append($('<i class="fa fa-clipboard"/>'), ' ', $('<span/>').text(_t('Copy')));
        this.$el.append($value, ' ', $button);
        this.clipboard = new window.Clipboard($button[0], {text: function () { return self.value; }});
        this.clipboard.on('success', function () {
            $button.find('span').text(_t('Copied'));
        });
    },
    _destroyClipboard: function () {
        if (this.clipboard) {
            this.clipboard.destroy();
            this.clipboard = null;
        }
    },
    destroy: function () {
        this._destroyClipboard();
        this._super.apply(this, arguments);
    },
});
fieldRegistry.add('postcenter_copy', CopyField);

/**
 * Email accounts are added through the "Add account" wizard, which tests the connection first.
 */
var AccountListController = ListController.extend({
    renderButtons: function () {
        this._super.apply(this, arguments);
        if (this.$buttons) {
            var self = this;
            this.$buttons.find('.o_list_button_add').text(_t('Add account'));
            $('<button type="button" class="btn btn-sm btn-default o_postcenter_dashboard_button"/>')
                .text(_t('Dashboard'))
                .on('click', function () {
                    self.do_action('postcenter_email.action_postcenter_email_dashboard');
                })
                .appendTo(this.$buttons);
        }
    },
    _onCreateRecord: function (event) {
        if (event) {
            event.stopPropagation();
        }
        var self = this;
        this.do_action('postcenter_email.action_postcenter_email_account_wizard', {
            on_close: function () { self.reload(); },
        });
    },
});

var AccountListView = ListView.extend({
    config: _.extend({}, ListView.prototype.config, {Controller: AccountListController}),
});
viewRegistry.add('postcenter_email_account_list', AccountListView);

/**
 * A text with buttons that insert the placeholders of automatic replies where the cursor is.
 */
var PLACEHOLDERS = [
    ['customer_name', _t('Customer name')],
    ['ticket_number', _t('Ticket number')],
    ['account_name', _t('Account name')],
];

var PlaceholderText = basicFields.FieldText.extend({
    start: function () {
        var result = this._super.apply(this, arguments);
        if (this.mode === 'edit') {
            var self = this;
            var $bar = $('<div class="o_postcenter_placeholders"/>');
            _.each(PLACEHOLDERS, function (placeholder) {
                $('<button type="button" class="btn btn-sm btn-default o_postcenter_placeholder"/>')
                    .attr('data-placeholder', placeholder[0])
                    .append($('<i class="fa fa-plus"/>'), ' ', $('<span/>').text(placeholder[1]))
                    .appendTo($bar);
            });
            $bar.on('click', 'button', function (event) {
                event.preventDefault();
                self._insertPlaceholder($(event.currentTarget).data('placeholder'));
            });
            this.$el = this.$el.add($bar);
        }
        return result;
    },
    /**
     * Put ``{{name}}`` at the cursor (replacing the selection), as if typed.
     */
    _insertPlaceholder: function (name) {
        var textarea = this.$input[0];
        var token = '{{' + name + '}}';
        var start = textarea.selectionStart || 0;
        var end = textarea.selectionEnd || start;
        textarea.value = textarea.value.slice(0, start) + token + textarea.value.slice(end);
        textarea.selectionStart = textarea.selectionEnd = start + token.length;
        textarea.focus();
        this.$input.trigger('input');
    },
});
fieldRegistry.add('postcenter_placeholder_text', PlaceholderText);

return {CopyField: CopyField, AccountListController: AccountListController, PlaceholderText: PlaceholderText};
});
